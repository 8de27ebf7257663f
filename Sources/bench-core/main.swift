// Times the server's request pipeline (FunctionProto's `Pipeline`) on serialized requests, in-process:
//   swift build -c release --product bench-core
//   .build/release/bench-core REQUEST.bin [ITERATIONS] [RESPONSE.bin]
// Prints median microseconds for decode, compose, encode and the whole path
// (which also frees the request and response, as the server does), and
// writes the response's bytes to RESPONSE.bin when given.
import Foundation
import FunctionCore
import FunctionProto

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

func measure<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let t = DispatchTime.now().uptimeNanoseconds
    let result = try body()
    return (result, Double(DispatchTime.now().uptimeNanoseconds - t) / 1000)
}

/// Collects each stage's microseconds, call after call.
final class StageTimes: Pipeline.StageTimer {
    var decode: [Double] = []
    var compose: [Double] = []
    var encode: [Double] = []

    func time<T>(_ stage: Pipeline.Stage, _ work: () throws -> T) rethrows -> T {
        let (result, micros) = try measure(work)
        switch stage {
        case .decode: decode.append(micros)
        case .compose: compose.append(micros)
        case .encode: encode.append(micros)
        }
        return result
    }
}

let args = CommandLine.arguments
guard args.count >= 2, let data = FileManager.default.contents(atPath: args[1]) else {
    FileHandle.standardError.write(Data("usage: bench-core REQUEST.bin [ITERATIONS] [RESPONSE.bin]\n".utf8))
    exit(2)
}
let iterations = args.count > 2 ? Int(args[2]) ?? 50 : 50
let pipeline = Pipeline()
let stages = StageTimes()
var total: [Double] = []
var bytes = 0
// The server's allocator settings (see fmc_tune_allocator in the shim);
// glibc's malloc.h, which names them, is not in Swift's Glibc module.
@_silgen_name("mallopt") func mallopt(_ parameter: Int32, _ value: Int32) -> Int32
_ = mallopt(-3, 32 << 20)  // M_MMAP_THRESHOLD
_ = mallopt(-1, 64 << 20)  // M_TRIM_THRESHOLD

/// One call through the pipeline; exits if the request is rejected.
func answer(timing timer: some Pipeline.StageTimer) -> Pipeline.Answer {
    switch data.withUnsafeBytes({ pipeline.run($0, timing: timer) }) {
    case .answered(let answer): return answer
    case .rejected(let message):
        FileHandle.standardError.write(Data("bench-core: \(message)\n".utf8))
        exit(1)
    }
}

for _ in 0..<iterations {
    // The whole path includes freeing the request, response and bytes, as in the server.
    let ((), whole) = measure { bytes = answer(timing: stages).encoded.count }
    total.append(whole)
}
if args.count > 3 {
    let encoded = answer(timing: Pipeline.Untimed()).encoded
    guard FileManager.default.createFile(atPath: args[3], contents: Data(encoded.bytes)) else {
        FileHandle.standardError.write(Data("bench-core: cannot write \(args[3])\n".utf8))
        exit(1)
    }
}
print(
    String(
        format:
            "request %d B, response %d B: decode %.0f µs, compose %.0f µs, encode %.0f µs, total %.0f µs (median of %d)",
        data.count, bytes, median(stages.decode), median(stages.compose), median(stages.encode), median(total),
        iterations))
