#ifndef AGENT_REPL_CEDITLINE_SHIM_H
#define AGENT_REPL_CEDITLINE_SHIM_H
#include <stdio.h>
#include <editline/readline.h>

/* Accessors for libedit's C globals, which Swift 6 concurrency checking rejects as mutable state. */
typedef char **(*ceditline_completion_func)(const char *text, int start, int end);
typedef char *(*ceditline_generator_func)(const char *text, int state);

static inline void ceditline_set_catch_signals(int on) { rl_catch_signals = on; }
static inline void ceditline_set_readline_name(const char *name) { rl_readline_name = name; }
static inline void ceditline_set_completion(ceditline_completion_func f) { rl_attempted_completion_function = f; }
static inline char **ceditline_completion_matches(const char *text, ceditline_generator_func g) { return rl_completion_matches(text, g); }
static inline const char *ceditline_line_buffer(void) { return rl_line_buffer; }
static inline void ceditline_set_attempted_completion_over(int v) { rl_attempted_completion_over = v; }
#endif
