// The only code in the project that touches gRPC C++. See function_shim.h.
//
// Everything here uses gRPC C++'s public API: the server is a
// grpc::CallbackGenericService (raw bytes in and out, no generated code), and
// composing runs on a small pool of the shim's own threads. It exists because
// Swift cannot call C++ directly; remove it if a Swift gRPC server ever
// matches its CPU cost (see the build notes).
#include "function_shim.h"

#include <grpc/support/log.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/support/server_callback.h>
#include <grpcpp/version_info.h>

// gpr_set_log_function is a no-op from gRPC 1.65 and removed after it (gRPC
// moved to absl logging, grpc/proposal L117); below 1.51 the callback generic
// service is experimental. Fail the build rather than lose gRPC's log lines or
// build against an API the shim was not tested with.
#if GRPC_CPP_VERSION_MAJOR != 1 || GRPC_CPP_VERSION_MINOR < 51 || \
    GRPC_CPP_VERSION_MINOR >= 65
#error "CFunctionShim supports gRPC C++ 1.51 to 1.64: port fmc_configure_logging to an absl::LogSink before building with a newer gRPC"
#endif

#if defined(__GLIBC__)
#include <malloc.h>
#include <unistd.h>
#endif
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

const char *const kV1Method =
    "/apiextensions.fn.proto.v1.FunctionRunnerService/RunFunction";
const char *const kV1Beta1Method =
    "/apiextensions.fn.proto.v1beta1.FunctionRunnerService/RunFunction";
const char *const kV1Service = "apiextensions.fn.proto.v1.FunctionRunnerService";
const char *const kV1Beta1Service =
    "apiextensions.fn.proto.v1beta1.FunctionRunnerService";

// Writes `text` as the body of a JSON string.
void AppendJSONEscaped(std::string *out, const char *text) {
  for (const char *p = text; *p != '\0'; ++p) {
    unsigned char c = static_cast<unsigned char>(*p);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
}

// The current UTC time as the Swift logger writes it, e.g.
// 2026-11-29T12:00:00.123Z. gmtime_r: gRPC logs from many threads at once.
std::string Timestamp() {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct tm parts;
  gmtime_r(&now.tv_sec, &parts);
  char ts[40];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
                parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                parts.tm_hour, parts.tm_min, parts.tm_sec,
                now.tv_nsec / 1000000);
  return ts;
}

// One field of a log line: a key and its value already rendered as JSON.
using LogField = std::pair<std::string, std::string>;

// A JSON string literal of `text`.
std::string JSONString(const char *text) {
  std::string out = "\"";
  AppendJSONEscaped(&out, text);
  out += "\"";
  return out;
}

// Writes one JSON log line, keys sorted as the Swift logger sorts them, with
// one write(2) (stderr is unbuffered), so that lines from concurrent threads
// never interleave. If stderr is gone (the server ignores SIGPIPE), the line
// is dropped.
void WriteLogLine(const char *level, const char *logger, const char *message,
                  std::vector<LogField> fields = {}) {
  fields.emplace_back("level", JSONString(level));
  fields.emplace_back("logger", JSONString(logger));
  fields.emplace_back("msg", JSONString(message));
  fields.emplace_back("ts", JSONString(Timestamp().c_str()));
  std::sort(fields.begin(), fields.end());
  std::string line = "{";
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line += ",";
    line += JSONString(fields[i].first.c_str()) + ":" + fields[i].second;
  }
  line += "}\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

// gRPC logs to stderr in its own format by default; keep stderr JSON lines.
void LogToJSON(gpr_log_func_args *args) {
  const char *level = "info";
  if (args->severity == GPR_LOG_SEVERITY_ERROR) level = "error";
  if (args->severity == GPR_LOG_SEVERITY_DEBUG) level = "debug";
  WriteLogLine(level, "grpc", args->message);
}

class RunFunctionCall;

// The shim's worker threads: a fixed number, so the process's thread count
// does not grow with concurrent calls. Composing is CPU-bound; beyond one
// call per core, concurrency only adds memory.
class WorkerPool {
 public:
  explicit WorkerPool(int threads) {
    for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
  }
  ~WorkerPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (auto &t : workers_) t.join();
  }
  WorkerPool(const WorkerPool &) = delete;
  WorkerPool &operator=(const WorkerPool &) = delete;

  // Queues a call whose request has arrived.
  void Submit(RunFunctionCall *call) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(call);
    }
    ready_.notify_one();
  }

 private:
  void Work();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<RunFunctionCall *> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

// Counts the RunFunction calls received and not yet finished, and refuses
// new ones once draining, so that a shutdown can answer every call it
// received before the signal and refuse later ones with a clean UNAVAILABLE.
// (gRPC's own Shutdown cancels a call that reaches it a moment too late
// instead; the drain before it keeps that window closed.)
class CallTracker {
 public:
  // Counts a new call in, or returns false once draining.
  bool Admit() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (draining_) return false;
    ++active_;
    return true;
  }
  // Counts a finished call out.
  void Done() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (--active_ == 0) idle_.notify_all();
  }
  // Refuses new calls from now on and waits until every admitted call has
  // finished or `deadline` has passed.
  void Drain(std::chrono::system_clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mutex_);
    draining_ = true;
    idle_.wait_until(lock, deadline, [this] { return active_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable idle_;
  int active_ = 0;
  bool draining_ = false;
};

// One RunFunction call: reads the request, waits in the pool's queue, then
// either composes (through the Swift handler) or, if the client left or the
// deadline passed meanwhile, answers without work. Deletes itself when gRPC
// is done with it.
class RunFunctionCall final : public grpc::ServerGenericBidiReactor {
 public:
  RunFunctionCall(grpc::GenericCallbackServerContext *context,
                  fmc_api_version api, WorkerPool *pool, CallTracker *tracker,
                  fmc_handler handler, void *handler_context)
      : context_(context), api_(api), pool_(pool), tracker_(tracker),
        handler_(handler), handler_context_(handler_context) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The client half-closed without a message, or the call was cancelled
      // (an oversized request is cancelled by gRPC with RESOURCE_EXHAUSTED,
      // which is what the client sees; this status is then ignored).
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "the call carried no request message"));
      return;
    }
    arrived_ = std::chrono::steady_clock::now();
    pool_->Submit(this);
  }

  void OnDone() override {
    CallTracker *tracker = tracker_;
    delete this;
    tracker->Done();
  }

  // Runs on a worker thread. The last thing it does is Finish: after that
  // gRPC may delete the call at any moment.
  void Run() {
    uint64_t waited_ns = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::steady_clock::now() - arrived_)
            .count());
    if (context_->IsCancelled()) {
      // Also the calls still queued when the shutdown grace runs out.
      Skip("Cancelled", waited_ns);
      Finish(grpc::Status(grpc::StatusCode::CANCELLED,
                          "the call was cancelled before it was composed"));
      return;
    }
    if (context_->deadline() <= std::chrono::system_clock::now()) {
      Skip("DeadlineExceeded", waited_ns);
      Finish(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                          "the deadline passed while the call waited for a worker"));
      return;
    }
    grpc::Slice body;
    if (!request_.DumpToSingleSlice(&body).ok()) {
      Finish(grpc::Status(grpc::StatusCode::INTERNAL, "cannot read request body"));
      return;
    }
    request_.Clear();
    const uint8_t *out = nullptr;
    size_t out_len = 0;
    void *owner = nullptr;
    char *error = nullptr;
    int code = handler_(handler_context_, api_, body.begin(), body.size(),
                        waited_ns, &out, &out_len, &owner, &error);
    if (code != 0) {
      std::string message = error != nullptr ? error : "";
      std::free(error);
      std::free(owner);
      Finish(grpc::Status(static_cast<grpc::StatusCode>(code), message));
      return;
    }
    std::free(error);
    // Zero-copy: the slice points into the Swift-written block and frees it when sent.
    grpc::Slice slice(const_cast<uint8_t *>(out), out_len, std::free, owner);
    response_ = grpc::ByteBuffer(&slice, 1);
    StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
  }

 private:
  void Skip(const char *reason, uint64_t waited_ns) {
    char wait_ms[32];
    std::snprintf(wait_ms, sizeof wait_ms, "%.3f", static_cast<double>(waited_ns) / 1e6);
    WriteLogLine("warn", "shim", "Skipped a call whose client left or whose deadline passed",
                 {{"api", JSONString(api_ == FMC_API_V1BETA1 ? "v1beta1" : "v1")},
                  {"reason", JSONString(reason)},
                  {"waitMs", wait_ms}});
  }

  grpc::GenericCallbackServerContext *context_;
  fmc_api_version api_;
  WorkerPool *pool_;
  CallTracker *tracker_;
  fmc_handler handler_;
  void *handler_context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  std::chrono::steady_clock::time_point arrived_;
};

void WorkerPool::Work() {
  for (;;) {
    RunFunctionCall *call;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      // Stopping only happens after the server has shut down, when no call
      // can be queued any more.
      if (queue_.empty()) return;
      call = queue_.front();
      queue_.pop_front();
    }
    call->Run();
  }
}

// Answers a call with an error status at once: an unknown method, or a
// call that arrives while the server drains.
class Refusal final : public grpc::ServerGenericBidiReactor {
 public:
  explicit Refusal(const grpc::Status &status) { Finish(status); }
  void OnDone() override { delete this; }
};

// Routes both RunFunction methods to RunFunctionCall; every other method
// that no registered service (health) claims is UNIMPLEMENTED.
class RunFunctionService final : public grpc::CallbackGenericService {
 public:
  RunFunctionService(fmc_handler handler, void *context, int workers)
      : handler_(handler), context_(context), pool_(workers > 0 ? workers : 1) {}

  grpc::ServerGenericBidiReactor *CreateReactor(
      grpc::GenericCallbackServerContext *context) override {
    const std::string &method = context->method();
    fmc_api_version api;
    if (method == kV1Method) {
      api = FMC_API_V1;
    } else if (method == kV1Beta1Method) {
      api = FMC_API_V1BETA1;
    } else {
      return new Refusal(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                      "unknown method " + method));
    }
    if (!tracker_.Admit()) {
      return new Refusal(grpc::Status(
          grpc::StatusCode::UNAVAILABLE,
          "function-modelcache is shutting down: retry on another replica"));
    }
    return new RunFunctionCall(context, api, &pool_, &tracker_, handler_, context_);
  }

  // Refuses new calls and waits for the received ones, up to `deadline`.
  void Drain(std::chrono::system_clock::time_point deadline) {
    tracker_.Drain(deadline);
  }

 private:
  fmc_handler handler_;
  void *context_;
  CallTracker tracker_;
  // Last: destroyed (its threads joined) first.
  WorkerPool pool_;
};

void WriteError(char *error, size_t error_len, const std::string &message) {
  if (error == nullptr || error_len == 0) return;
  std::snprintf(error, error_len, "%s", message.c_str());
}

// Whether a plaintext server can listen on `address`: tells a TLS failure
// apart from an address failure after BuildAndStart failed with TLS.
bool CanListen(const char *address) {
  grpc::ServerBuilder builder;
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // gRPC refuses to build a server that serves nothing; this one answers
  // UNIMPLEMENTED and lives for microseconds.
  grpc::CallbackGenericService nothing;
  builder.RegisterCallbackGenericService(&nothing);
  int port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  auto probe = builder.BuildAndStart();
  bool ok = probe != nullptr && port != 0;
  if (probe != nullptr) probe->Shutdown(std::chrono::system_clock::now());
  return ok;
}

}  // namespace

struct fmc_server {
  // Declared first so that it is destroyed last: the server must be gone
  // before the service and its worker pool.
  std::unique_ptr<RunFunctionService> service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  std::once_flag shutdown_once;
  ~fmc_server() { server.reset(); }
};

extern "C" {

void fmc_configure_logging(int debug) {
  gpr_set_log_function(LogToJSON);
  gpr_set_log_verbosity(debug ? GPR_LOG_SEVERITY_DEBUG : GPR_LOG_SEVERITY_ERROR);
}

fmc_server *fmc_server_start(const char *address, const char *cert_pem,
                             const char *key_pem, const char *ca_pem,
                             int max_receive_bytes, int max_concurrent_calls,
                             fmc_handler handler,
                             void *handler_context, char *error,
                             size_t error_len) {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  bool tls = false;
  if (cert_pem != nullptr && key_pem != nullptr && ca_pem != nullptr) {
    grpc::SslServerCredentialsOptions options(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    options.pem_root_certs = ca_pem;
    options.pem_key_cert_pairs.push_back({key_pem, cert_pem});
    credentials = grpc::SslServerCredentials(options);
    tls = true;
  } else if (cert_pem == nullptr && key_pem == nullptr && ca_pem == nullptr) {
    credentials = grpc::InsecureServerCredentials();
  } else {
    WriteError(error, error_len,
               "TLS needs a certificate, a key and a client CA together");
    return nullptr;
  }

  auto result = std::make_unique<fmc_server>();
  result->service = std::make_unique<RunFunctionService>(
      handler, handler_context, max_concurrent_calls);

  // Must precede BuildAndStart, or the health service is not registered.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default, so a second server on a busy port
  // would start and silently share connections. Fail loudly instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(max_receive_bytes);
  builder.SetMaxSendMessageSize(-1);
  builder.AddListeningPort(address, credentials, &result->port);
  builder.RegisterCallbackGenericService(result->service.get());
  result->server = builder.BuildAndStart();
  if (result->server == nullptr || result->port == 0) {
    if (result->server != nullptr) result->server->Shutdown();
    result->server.reset();
    if (tls && CanListen(address)) {
      WriteError(error, error_len,
                 "gRPC rejected the TLS material: tls.key must be the private "
                 "key of tls.crt (see the gRPC error logged before this line)");
    } else {
      WriteError(error, error_len,
                 std::string("cannot listen on ") + address +
                     ": the address is invalid or already in use");
    }
    return nullptr;
  }
  auto *health = result->server->GetHealthCheckService();
  if (health != nullptr) {
    health->SetServingStatus(kV1Service, true);
    health->SetServingStatus(kV1Beta1Service, true);
  }
  return result.release();
}

int fmc_server_port(const fmc_server *server) { return server->port; }

void fmc_server_wait(fmc_server *server) { server->server->Wait(); }

void fmc_server_shutdown(fmc_server *server, int64_t grace_ms) {
  std::call_once(server->shutdown_once, [server, grace_ms] {
    auto *health = server->server->GetHealthCheckService();
    if (health != nullptr) health->SetServingStatus(false);
    auto deadline = std::chrono::system_clock::now() +
                    std::chrono::milliseconds(grace_ms);
    // First refuse new calls with UNAVAILABLE and let every call already
    // received finish (the callback API hands each call to a reactor as it
    // arrives, so none waits unmatched). Then shut gRPC down: by now nothing
    // is in flight, unless the grace ran out, and then the rest is cancelled
    // (queued calls are dropped without work; a running handler finishes).
    server->service->Drain(deadline);
    // Keep refusing for a moment: a client whose call just finished often
    // sends its next one at once, and if that one met gRPC's Shutdown it
    // would be cancelled (CANCELLED) instead of refused (UNAVAILABLE).
    auto linger = std::chrono::system_clock::now() + std::chrono::milliseconds(200);
    std::this_thread::sleep_until(std::min(linger, deadline));
    server->server->Shutdown(deadline);
  });
}

void fmc_server_free(fmc_server *server) { delete server; }

int fmc_client_call(const char *target, const uint8_t *request,
                    size_t request_len, int timeout_ms, uint8_t **response,
                    size_t *response_len, char **error_message) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  auto channel = grpc::CreateCustomChannel(
      target, grpc::InsecureChannelCredentials(), args);
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(timeout_ms));
  grpc::CompletionQueue queue;
  grpc::Slice slice(request, request_len);
  grpc::ByteBuffer body(&slice, 1);
  auto call = stub.PrepareUnaryCall(&context, kV1Method, body, &queue);
  call->StartCall();
  grpc::ByteBuffer reply;
  grpc::Status status;
  call->Finish(&reply, &status, reinterpret_cast<void *>(1));
  void *tag = nullptr;
  bool ok = false;
  queue.Next(&tag, &ok);
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  if (!status.ok()) {
    *error_message = strdup(status.error_message().c_str());
    return static_cast<int>(status.error_code());
  }
  grpc::Slice out;
  if (!reply.DumpToSingleSlice(&out).ok()) {
    *error_message = strdup("cannot read the response body");
    return static_cast<int>(grpc::StatusCode::INTERNAL);
  }
  *response = static_cast<uint8_t *>(std::malloc(out.size() > 0 ? out.size() : 1));
  std::memcpy(*response, out.begin(), out.size());
  *response_len = out.size();
  return 0;
}

void fmc_tune_allocator(void) {
#if defined(__GLIBC__)
  // Responses and large requests are hundreds of KiB to a few MiB. Above
  // 128 KiB glibc would mmap each one fresh and unmap it after, so every call
  // paid page faults to touch new memory; from the heap the pages are reused.
  // The periodic malloc_trim returns what is free when load stops.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  // One arena per core: gRPC's pool threads otherwise each grow their own
  // arena, and RSS grows with the number of threads that ever served a call.
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  mallopt(M_ARENA_MAX, cores > 0 ? static_cast<int>(cores) : 2);
#endif
}

void fmc_release_free_memory(void) {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // extern "C"
