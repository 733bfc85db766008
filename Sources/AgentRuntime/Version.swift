public enum AgentRuntimeVersion { public static let string = "0.1.0" }
