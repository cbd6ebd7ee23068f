import Foundation

/// An executable product of this package built next to the test bundle (`jingle`, `bench-…`): the build
/// directory is the nearest ancestor of the test runner that holds it.
public func builtProduct(_ name: String) -> URL {
    var directory = Bundle.main.bundleURL
    while !FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), directory.pathComponents.count > 1 {
        directory.deleteLastPathComponent()
    }
    return directory.appendingPathComponent(name)
}
