import AgentRuntime
print("agent-repl \(AgentRuntimeVersion.string)")
