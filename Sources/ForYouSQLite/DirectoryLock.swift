// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ForYou

/// An exclusive, advisory lock on a data folder (`flock` on `foryou.lock`), held for the life of the
/// value, so two processes never open the same store. The kernel releases it when the process dies,
/// so a crash never leaves a stale lock.
final class DirectoryLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock or throws ``ForYouError/Code/conflict`` naming the folder and the holder's pid.
    init(directory: String) throws {
        let path = directory + "/foryou.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ForYouError(.unavailable, "cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let read = read(fd, &buffer, 31)
            close(fd)
            let holder = read > 0 ? String(decoding: buffer.prefix(read), as: UTF8.self).trimmingWhitespace : "unknown"
            throw ForYouError(
                .conflict, "the data folder \(directory) is in use by another foryou process (pid \(holder)); stop it or choose another --data folder")
        }
        ftruncate(fd, 0)
        let pid = String(getpid()) + "\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
        descriptor = fd
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        String(self.filter { !$0.isWhitespace })
    }
}
