print("agent-bench")
