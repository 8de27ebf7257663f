import FoundationEssentials
import Glibc

/// stdout and stderr for the CLI, in place of Foundation's `FileHandle`: this
/// target imports only FoundationEssentials, because importing Foundation
/// anywhere links its internationalization layer and ICU's data (about 30 MB)
/// into the static binary. Only what the CLI uses: writing whole buffers.
struct FileHandle {
    /// The file descriptor written to.
    let descriptor: Int32

    /// Standard output.
    static let standardOutput = FileHandle(descriptor: STDOUT_FILENO)
    /// Standard error.
    static let standardError = FileHandle(descriptor: STDERR_FILENO)

    /// Writes all of `data`, retrying short writes and interrupted calls; any
    /// other failure ends the write, as nothing more can be said on that stream.
    func write(_ data: Data) {
        data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            guard var pointer = buffer.baseAddress else { return }
            var left = buffer.count
            while left > 0 {
                let n = Glibc.write(descriptor, pointer, left)
                if n < 0, errno == EINTR { continue }
                if n <= 0 { return }
                pointer += n
                left -= n
            }
        }
    }
}
