import GRDB

/// The database's tables, as migrations from the first version on. A migration, once released, is
/// never edited: a change is a new migration appended here (an older file then upgrades on open).
///
/// Times are Unix seconds (REAL) from the store's wall clock; a tool task's scheduler times
/// (`*_ms`) are milliseconds on the session's scheduler clock, as `/task ID` shows them.
enum StoreSchema {
    static let firstVersion = "v1"
    static let versions = ["v1", "v2-search", "v3-served-chats"]

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE sessions (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  folder TEXT NOT NULL,
                  model TEXT NOT NULL,
                  api TEXT NOT NULL,
                  started_at REAL NOT NULL,
                  title TEXT NOT NULL DEFAULT ''
                );
                CREATE INDEX sessions_by_folder ON sessions(folder, id);
                -- One prompt and what came of it; `job` is the background job's number (NULL: the
                -- foreground conversation). `state` is running until the turn ends.
                CREATE TABLE turns (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                  job INTEGER,
                  prompt TEXT NOT NULL,
                  state TEXT NOT NULL,
                  error TEXT,
                  answer TEXT,
                  started_at REAL NOT NULL,
                  ended_at REAL,
                  pid INTEGER NOT NULL
                );
                CREATE INDEX turns_by_session ON turns(session_id, id);
                CREATE INDEX running_turns ON turns(state) WHERE state = 'running';
                -- The conversation the model sees, in order (only turns that answered add to it).
                CREATE TABLE messages (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                  turn_id INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
                  job INTEGER,
                  role TEXT NOT NULL,
                  content TEXT,
                  tool_calls TEXT,
                  tool_call_id TEXT,
                  output_items TEXT
                );
                CREATE INDEX messages_by_session ON messages(session_id, id);
                CREATE TABLE model_calls (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  turn_id INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
                  model TEXT NOT NULL,
                  prompt_tokens INTEGER,
                  completion_tokens INTEGER,
                  total_tokens INTEGER,
                  cached_prompt_tokens INTEGER,
                  reasoning_tokens INTEGER,
                  ttft_ms REAL,
                  duration_ms REAL NOT NULL,
                  http_retries INTEGER NOT NULL DEFAULT 0
                );
                CREATE INDEX model_calls_by_turn ON model_calls(turn_id);
                CREATE TABLE tool_tasks (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  turn_id INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
                  task_id INTEGER NOT NULL,
                  call_id TEXT NOT NULL,
                  tool TEXT NOT NULL,
                  arguments TEXT NOT NULL,
                  state TEXT NOT NULL,
                  priority INTEGER NOT NULL,
                  levels TEXT NOT NULL,
                  preemptions INTEGER NOT NULL,
                  wait_ms REAL NOT NULL,
                  run_ms REAL NOT NULL,
                  paused_ms REAL NOT NULL,
                  submitted_ms REAL NOT NULL,
                  started_ms REAL,
                  ended_ms REAL,
                  ended_at REAL NOT NULL,
                  result TEXT
                );
                CREATE INDEX tool_tasks_by_turn ON tool_tasks(turn_id);
                -- The scheduler's learned sjf estimates, per tool name.
                CREATE TABLE tool_estimates (
                  tool TEXT PRIMARY KEY,
                  estimate_ns INTEGER NOT NULL,
                  updated_at REAL NOT NULL
                );
                """)
        }
        // Full-text search over prompts, answers and tool results (`logs search`). An external-content
        // FTS5 table over `messages`, filled from the rows a v1 file already holds.
        migrator.registerMigration("v2-search") { db in
            try db.execute(sql: """
                CREATE VIRTUAL TABLE messages_search USING fts5(content, content='messages', content_rowid='id');
                INSERT INTO messages_search(rowid, content) SELECT id, content FROM messages WHERE content IS NOT NULL;
                CREATE TRIGGER messages_search_insert AFTER INSERT ON messages WHEN new.content IS NOT NULL BEGIN
                  INSERT INTO messages_search(rowid, content) VALUES (new.id, new.content);
                END;
                CREATE TRIGGER messages_search_delete AFTER DELETE ON messages WHEN old.content IS NOT NULL BEGIN
                  INSERT INTO messages_search(messages_search, rowid, content) VALUES ('delete', old.id, old.content);
                END;
                """)
        }
        // The sessions `agent-repl serve` records for `POST /chat`, with the random id its clients hold
        // (the session's own number is guessable; this one is not): a restarted server continues them.
        migrator.registerMigration("v3-served-chats") { db in
            try db.execute(sql: """
                CREATE TABLE served_chats (
                  chat_id TEXT PRIMARY KEY,
                  session_id INTEGER NOT NULL UNIQUE REFERENCES sessions(id) ON DELETE CASCADE
                );
                """)
        }
        return migrator
    }
}
