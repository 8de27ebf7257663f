/// Reading a request in the Go SDK's `request` style: what every composer asks of it, named once.
extension RunRequest {
    /// The resources answered for `key`; nil while Crossplane has not answered it
    /// (an empty list means "answered: none").
    public func required(_ key: RequirementKey) -> [Resource]? {
        requiredResources[key.rawValue]
    }

    /// Whether Crossplane answered every resource requirement in `requirements`
    /// (possibly with none): until then a composer waits.
    public func hasAnswered(_ requirements: Requirements) -> Bool {
        requirements.resources.keys.allSatisfy { requiredResources[$0] != nil }
    }
}
