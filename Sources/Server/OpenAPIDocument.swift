import JSON
import Scheduler
import Tools

/// `/openapi.json`: the API as this server answers it, built from the same limits the handlers check
/// and from the tools it serves (each tool's arguments schema is its declared one).
enum OpenAPIDocument {
    static func make(catalog: ToolCatalog) -> JSONValue {
        [
            "openapi": "3.1.0",
            "info": [
                "title": "agent-repl serve",
                "version": .string(AgentReplServerVersion.api),
                "description": .string("""
                    The scheduler of agent-repl over HTTP: the original task service's API (POST /tasks, GET /tasks, \
                    GET /tasks/{id}, GET /stats, PUT /scheduler/strategy) and ours. Every error is an RFC 9457 problem \
                    body whose `field` names the request field at fault. When the server has a token, every request \
                    but /, /docs, /openapi.json and /healthz carries it as `Authorization: Bearer TOKEN`.
                    """),
            ],
            "components": [
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]],
                "schemas": schemas(catalog: catalog),
            ],
            "security": [[:], ["bearer": []]],
            "paths": paths,
        ]
    }

    // MARK: Paths

    private static var paths: JSONValue {
        [
            "/tasks": [
                "post": operation(
                    "submitTask", "Queue a task: a function_call (one model request offering a function) or a declared tool.",
                    body: ref("TaskCreate"), ok: ref("TaskQueued"), errors: [400, 413, 422, 429, 503]),
                "get": operation(
                    "listTasks", "Recent tasks, newest first.",
                    parameters: [
                        query("limit", ["type": "integer", "minimum": 0, "maximum": .int(Int64(AgentServer.listLimit)), "default": 10]),
                        query("state", ["type": "string", "enum": .array((["queued"] + TaskState.allCases.map(\.rawValue)).map { .string($0) })]),
                        query("tool", ["type": "string"]),
                    ],
                    ok: ["type": "array", "items": ref("Task")], errors: [422]),
            ],
            "/tasks/{id}": [
                "parameters": [["name": "id", "in": "path", "required": true, "schema": ["type": "string"]]],
                "get": operation("getTask", "One task.", ok: ref("Task"), errors: [404]),
                "delete": operation("cancelTask", "Cancel a queued or running task; an ended task is returned unchanged.", ok: ref("Task"), errors: [404]),
            ],
            "/stats": ["get": operation("getStats", "The scheduler's counters, queues and settings.", ok: ref("Stats"))],
            "/scheduler/strategy": [
                "put": operation("setStrategy", "Switch the strategy, and the time slice if given.", body: ref("StrategyChange"), ok: ref("StrategyChanged"), errors: [400, 413, 422]),
            ],
            "/scheduler/workers": [
                "put": operation("setWorkers", "Change how many tasks may run at once.", body: ref("WorkersChange"), ok: ref("WorkersChanged"), errors: [400, 413, 422]),
            ],
            "/chat": [
                "post": operation(
                    "chat", "One turn of a conversation; with Accept: text/event-stream, its text, tool starts and ends as Server-Sent Events (text, tool_started, tool_finished, then done or error).",
                    body: ref("ChatRequest"), ok: ref("ChatAnswer"), errors: [400, 404, 409, 413, 422, 502, 503], streams: true),
            ],
            "/events": [
                "get": [
                    "operationId": "events", "summary": "Server-Sent Events: `task` (every transition) and `stats` (each tick).",
                    "responses": ["200": ["description": "An endless event stream.", "content": ["text/event-stream": ["schema": ["type": "string"]]]], "default": problemResponse],
                ],
            ],
            "/healthz": ["get": operation("health", "Whether the server takes work.", ok: ref("Health"), open: true)],
            "/openapi.json": ["get": operation("openapi", "This document.", ok: ["type": "object"], open: true)],
            "/": ["get": html("dashboard", "The dashboard.")],
            "/docs": ["get": html("docs", "This document, readable.")],
        ]
    }

    private static let problemResponse: JSONValue = [
        "description": "A problem (RFC 9457).", "content": ["application/problem+json": ["schema": ref("Problem")]],
    ]

    private static func operation(
        _ id: String, _ summary: String, parameters: [JSONValue] = [], body: JSONValue? = nil, ok: JSONValue, errors: [Int] = [],
        streams: Bool = false, open: Bool = false
    ) -> JSONValue {
        var content: [String: JSONValue] = ["application/json": ["schema": ok]]
        if streams { content["text/event-stream"] = ["schema": ["type": "string"]] }
        var responses: [String: JSONValue] = ["200": ["description": "OK", "content": .object(content)], "default": problemResponse]
        for status in errors + (open ? [] : [401]) { responses[String(status)] = problemResponse }
        var object: [String: JSONValue] = ["operationId": .string(id), "summary": .string(summary), "responses": .object(responses)]
        if !parameters.isEmpty { object["parameters"] = .array(parameters) }
        if let body { object["requestBody"] = ["required": true, "content": ["application/json": ["schema": body]]] }
        if open { object["security"] = [] }
        return .object(object)
    }

    private static func html(_ id: String, _ summary: String) -> JSONValue {
        [
            "operationId": .string(id), "summary": .string(summary), "security": [],
            "responses": ["200": ["description": "A page.", "content": ["text/html": ["schema": ["type": "string"]]]], "default": problemResponse],
        ]
    }

    private static func query(_ name: String, _ schema: JSONValue) -> JSONValue {
        ["name": .string(name), "in": "query", "required": false, "schema": schema]
    }

    private static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }

    private static func nullable(_ schema: JSONValue) -> JSONValue { ["anyOf": [schema, ["type": "null"]]] }

    // MARK: Schemas

    private static func schemas(catalog: ToolCatalog) -> JSONValue {
        let common: [String: JSONValue] = [
            "name": ["type": "string", "minLength": 1, "maxLength": .int(Int64(TaskRequest.nameLimit))],
            "priority": nullable([
                "type": "integer", "minimum": .int(Int64(TaskRequest.priorities.lowerBound)), "maximum": .int(Int64(TaskRequest.priorities.upperBound)),
                "description": "0 is the highest.",
            ]),
            "estimated_time": nullable(["type": "number", "exclusiveMinimum": 0, "maximum": .double(TaskRequest.estimateLimit)]),
        ]
        var functionCall = common
        functionCall["task_type"] = nullable(["const": "function_call"])
        functionCall["payload"] = [
            "type": "object", "additionalProperties": false, "required": ["function_name"],
            "properties": [
                "function_name": ["type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"],
                "parameters": nullable(["type": "object", "description": "The function's arguments as a JSON Schema."]),
                "content": nullable(["type": "string", "maxLength": .int(Int64(TaskRequest.contentLimit))]),
                "description": nullable(["type": "string"]),
                "model": nullable(["type": "string", "description": "Kept; the server's own model answers."]),
            ],
        ]
        var tool = common
        tool["task_type"] = nullable(["const": "tool"])
        let tools = catalog.tools.filter { !$0.confirm }.sorted { $0.name < $1.name }
        tool["payload"] = [
            "oneOf": .array(tools.map { declared in
                // Arguments left out are `{}`: required when the tool's schema requires a property.
                let needsArguments = declared.parameters["required"]?.arrayValue?.isEmpty == false
                return [
                    "type": "object", "additionalProperties": false, "required": needsArguments ? ["tool", "arguments"] : ["tool"],
                    "properties": ["tool": ["const": .string(declared.name)], "arguments": declared.parameters],
                ]
            }),
        ]
        let time: JSONValue = ["type": "number", "minimum": 0]
        let date: JSONValue = ["type": ["string", "null"], "format": "date-time"]
        return [
            "TaskCreate": [
                "description": "A function_call task (the original's) or a tool task. Without task_type, a payload naming a tool makes a tool task.",
                "oneOf": [
                    ["type": "object", "required": ["name", "payload"], "properties": .object(functionCall)],
                    ["type": "object", "required": ["name", "payload"], "properties": .object(tool)],
                ],
            ],
            "TaskQueued": [
                "type": "object", "required": ["task_id", "status", "message"],
                "properties": ["task_id": ["type": "string"], "status": ["const": "queued"], "message": ["type": "string"]],
            ],
            "Task": [
                "type": "object",
                "required": [
                    "id", "name", "priority", "status", "task_type", "created_at", "started_at", "completed_at", "wait_time",
                    "execution_time", "estimated_time", "result", "error", "state", "tool", "level", "preemptions",
                ],
                "properties": [
                    "id": ["type": "string"], "name": ["type": "string"], "priority": ["type": "integer"],
                    "status": ["type": "string", "enum": .array((["queued"] + TaskState.allCases.filter { $0 != .waiting }.map(\.rawValue)).map { .string($0) })],
                    "task_type": ["type": "string", "enum": ["function_call", "tool"]],
                    "created_at": date, "started_at": date, "completed_at": date,
                    "wait_time": time, "execution_time": ["type": ["number", "null"]], "estimated_time": ["type": ["number", "null"]],
                    "result": ["type": ["string", "null"]], "error": ["type": ["string", "null"]],
                    "state": ["type": "string", "enum": .array(TaskState.allCases.map { .string($0.rawValue) })],
                    "tool": ["type": "string"], "level": ["type": "integer"], "preemptions": ["type": "integer"],
                    "arguments": ["type": ["string", "null"]],
                ],
            ],
            "Stats": [
                "type": "object",
                "required": [
                    "total", "completed", "failed", "avg_wait_time", "avg_execution_time", "queued_tasks", "running_tasks", "strategy",
                    "workers", "quantum_ms", "levels", "running", "paused", "queued", "submitted", "cancelled", "timed_out", "tools",
                ],
                "properties": [
                    "total": ["type": "integer"], "completed": ["type": "integer"], "failed": ["type": "integer"],
                    "avg_wait_time": time, "avg_execution_time": time, "queued_tasks": ["type": "integer"], "running_tasks": ["type": "integer"],
                    "strategy": ["type": "string", "enum": .array(Strategy.allCases.map { .string($0.rawValue) })],
                    "workers": ["type": "integer"], "quantum_ms": ["type": "number"], "levels": ["type": "array"],
                    "tools": ["type": "object"],
                ],
            ],
            "StrategyChange": [
                "type": "object", "required": ["strategy"],
                "properties": [
                    "strategy": [
                        "type": "string",
                        "enum": .array((Strategy.allCases.map(\.rawValue) + AgentServer.strategyAliases.keys.sorted()).map { .string($0) }),
                    ],
                    "time_slice": nullable(["type": "number", "minimum": 0.001, "maximum": 3600, "description": "Seconds."]),
                ],
            ],
            "StrategyChanged": [
                "type": "object", "required": ["strategy", "time_slice", "message"],
                "properties": ["strategy": ["type": "string"], "time_slice": ["type": "number"], "message": ["type": "string"]],
            ],
            "WorkersChange": [
                "type": "object", "required": ["workers"], "properties": ["workers": ["type": "integer", "minimum": 1, "maximum": 256]],
            ],
            "WorkersChanged": ["type": "object", "required": ["workers"], "properties": ["workers": ["type": "integer"]]],
            "ChatRequest": [
                "type": "object", "required": ["message"],
                "properties": [
                    "message": ["type": "string", "minLength": 1, "maxLength": .int(Int64(TaskRequest.contentLimit))],
                    "session": nullable([
                        "type": "string", "maxLength": .int(Int64(ChatSessions.idLimit)),
                        "description": "An earlier answer's session: continues that conversation (after a restart too, when the server records in a session database).",
                    ]),
                ],
            ],
            "ChatAnswer": [
                "type": "object", "required": ["session", "answer"],
                "properties": ["session": ["type": "string"], "answer": ["type": "string"]],
            ],
            "Health": [
                "type": "object", "required": ["status", "event_clients"],
                "properties": ["status": ["type": "string", "enum": ["ok", "draining"]], "event_clients": ["type": "integer"]],
            ],
            "Problem": [
                "type": "object", "required": ["type", "title", "status", "detail"],
                "properties": [
                    "type": ["type": "string"], "title": ["type": "string"], "status": ["type": "integer"], "detail": ["type": "string"],
                    "field": ["type": "string", "description": "The request field at fault: a JSON pointer into the body, or a parameter's name."],
                ],
            ],
        ]
    }
}

/// The API's version, in the document.
enum AgentReplServerVersion {
    static let api = "1.0.0"
}
