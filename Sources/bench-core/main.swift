// Times the server's phases on serialized requests, in-process:
//   swift build -c release --product bench-core
//   .build/release/bench-core REQUEST.bin [ITERATIONS] [RESPONSE.bin]
// Prints median microseconds for decode, compose, encode and the whole path
// (which also frees the request and response, as the server does), and
// writes the response's bytes to RESPONSE.bin when given.
import Foundation
import FunctionCore
import FunctionProto

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

func time(_ body: () -> Void) -> Double {
    let t = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - t) / 1000
}

let args = CommandLine.arguments
guard args.count >= 2, let data = FileManager.default.contents(atPath: args[1]) else {
    FileHandle.standardError.write(Data("usage: bench-core REQUEST.bin [ITERATIONS] [RESPONSE.bin]\n".utf8))
    exit(2)
}
let iterations = args.count > 2 ? Int(args[2]) ?? 50 : 50
let composer = Composer()
var decode: [Double] = []
var compose: [Double] = []
var encode: [Double] = []
var total: [Double] = []
var bytes = 0
// The server's allocator settings (see fmc_tune_allocator in the shim);
// glibc's malloc.h, which names them, is not in Swift's Glibc module.
@_silgen_name("mallopt") func mallopt(_ parameter: Int32, _ value: Int32) -> Int32
_ = mallopt(-3, 32 << 20)  // M_MMAP_THRESHOLD
_ = mallopt(-1, 64 << 20)  // M_TRIM_THRESHOLD
for _ in 0..<iterations {
    // The whole path includes freeing the request, response and bytes, as in the server.
    let whole = time {
        var request: RunRequest!
        var response: RunResponse!
        decode.append(time { request = data.withUnsafeBytes { try! Wire.decodeRequest($0) } })
        compose.append(time { response = composer.run(request) })
        encode.append(time { bytes = Wire.encodeResponseMessage(response).count })
    }
    total.append(whole)
}
if args.count > 3 {
    let request = data.withUnsafeBytes { try! Wire.decodeRequest($0) }
    let encoded = Wire.encodeResponseMessage(composer.run(request))
    guard FileManager.default.createFile(atPath: args[3], contents: Data(encoded.bytes)) else {
        FileHandle.standardError.write(Data("bench-core: cannot write \(args[3])\n".utf8))
        exit(1)
    }
}
print(
    String(
        format:
            "request %d B, response %d B: decode %.0f µs, compose %.0f µs, encode %.0f µs, total %.0f µs (median of %d)",
        data.count, bytes, median(decode), median(compose), median(encode), median(total), iterations))
