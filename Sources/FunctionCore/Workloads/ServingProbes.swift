/// The port and probes of a serving container (Deployment pods, LeaderWorkerSet
/// leaders), so that a replica's Ready means "answers requests", not "pods exist".
enum ServingProbes {
    /// The HTTP port every serving engine listens on (vLLM's default).
    static let port: Int64 = 8000
    /// The path that answers 200 once the model is loaded.
    static let healthPath = "/health"
    /// Seconds between two startup checks.
    static let startupPeriodSeconds: Int64 = 10
    /// Startup checks before the kubelet gives up: 180 × 10 s = 30 minutes, enough
    /// for the gang to form and a 400B model to load from the cache.
    static let startupFailureThreshold: Int64 = 180

    /// The container port entry.
    static var containerPort: Value { ["name": "http", "containerPort": .int(port), "protocol": "TCP"] }

    /// `GET /health` on the serving port.
    static var httpGet: Value { ["path": .string(healthPath), "port": .int(port)] }

    /// Ready while `/health` answers.
    static var readinessProbe: Value {
        ["httpGet": httpGet, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3]
    }

    /// Patient while the model loads; the readiness probe takes over once it passes.
    static var startupProbe: Value {
        [
            "httpGet": httpGet, "periodSeconds": .int(startupPeriodSeconds), "timeoutSeconds": 5,
            "failureThreshold": .int(startupFailureThreshold),
        ]
    }

    /// The probe fields of a container.
    static let probeKeys = ["livenessProbe", "readinessProbe", "startupProbe"]

    /// `container` as a serving container: port 8000 unless declared, and the
    /// readiness and startup probes unless the user wrote their own.
    static func serving(_ container: Value) -> Value {
        var c = container
        var ports = c["ports"]?.listValue ?? []
        if !ports.contains(where: { $0["containerPort"]?.intValue == port }) { ports.append(containerPort) }
        c["ports"] = .list(ports)
        if c["readinessProbe"] == nil { c["readinessProbe"] = readinessProbe }
        if c["startupProbe"] == nil { c["startupProbe"] = startupProbe }
        return c
    }

    /// `container` without HTTP probes: gang workers serve no HTTP, so such a
    /// probe (written for the leader) could never pass there.
    static func withoutHTTPProbes(_ container: Value) -> Value {
        var c = container
        for key in probeKeys where c[key]?["httpGet"] != nil { c[key] = nil }
        return c
    }
}
