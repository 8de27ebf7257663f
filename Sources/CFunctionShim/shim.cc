// The only code in the project that touches gRPC C++. See function_shim.h.
#include "function_shim.h"

#include <grpc/support/log.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/support/method_handler.h>

#include <atomic>
#if defined(__GLIBC__)
#include <malloc.h>
#include <unistd.h>
#endif
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <string>

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

// gRPC logs to stderr in its own format by default; keep stderr JSON lines.
void LogToJSON(gpr_log_func_args *args) {
  const char *level = "info";
  if (args->severity == GPR_LOG_SEVERITY_ERROR) level = "error";
  if (args->severity == GPR_LOG_SEVERITY_DEBUG) level = "debug";
  std::time_t now = std::time(nullptr);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::string line = "{\"level\":\"";
  line += level;
  line += "\",\"ts\":\"";
  line += ts;
  line += "\",\"logger\":\"grpc\",\"msg\":\"";
  AppendJSONEscaped(&line, args->message);
  line += "\"}\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

// Registers both RunFunction methods with a byte-buffer handler on the sync
// server, whose thread pool is meant for handlers that do real work. gRPC
// C++ has no public way to register a raw sync method without generated code;
// this is what the generated code does.
class RunFunctionService : public grpc::Service {
 public:
  RunFunctionService(fmc_handler handler, void *context, int max_concurrent)
      : handler_(handler), context_(context),
        free_slots_(max_concurrent > 0 ? max_concurrent : 1) {
    Register(kV1Method, FMC_API_V1);
    Register(kV1Beta1Method, FMC_API_V1BETA1);
  }

 private:
  void Register(const char *name, fmc_api_version api) {
    using Handler =
        grpc::internal::RpcMethodHandler<RunFunctionService, grpc::ByteBuffer,
                                         grpc::ByteBuffer>;
    AddMethod(new grpc::internal::RpcServiceMethod(
        name, grpc::internal::RpcMethod::NORMAL_RPC,
        new Handler(
            [api](RunFunctionService *self, grpc::ServerContext *,
                  const grpc::ByteBuffer *request, grpc::ByteBuffer *response) {
              return self->Call(api, request, response);
            },
            this)));
  }

  grpc::Status Call(fmc_api_version api, const grpc::ByteBuffer *request,
                    grpc::ByteBuffer *response) {
    // Composing is CPU-bound: beyond one call per core, concurrency only adds
    // memory. Wait for a slot before the body is copied into one piece.
    auto arrived = std::chrono::steady_clock::now();
    Slot slot(this);
    uint64_t waited_ns = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::steady_clock::now() - arrived)
            .count());
    grpc::Slice body;
    if (!request->DumpToSingleSlice(&body).ok()) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "cannot read request body");
    }
    const uint8_t *out = nullptr;
    size_t out_len = 0;
    void *owner = nullptr;
    char *error = nullptr;
    int code = handler_(context_, api, body.begin(), body.size(), waited_ns,
                        &out, &out_len, &owner, &error);
    if (code != 0) {
      std::string message = error != nullptr ? error : "";
      std::free(error);
      std::free(owner);
      return grpc::Status(static_cast<grpc::StatusCode>(code), message);
    }
    std::free(error);
    // Zero-copy: the slice points into the Swift-written block and frees it when sent.
    grpc::Slice slice(const_cast<uint8_t *>(out), out_len, std::free, owner);
    *response = grpc::ByteBuffer(&slice, 1);
    return grpc::Status::OK;
  }

  // Holds one of the service's slots for its lifetime.
  class Slot {
   public:
    explicit Slot(RunFunctionService *service) : service_(service) {
      std::unique_lock<std::mutex> lock(service_->slots_mutex_);
      service_->slot_freed_.wait(lock, [this] { return service_->free_slots_ > 0; });
      --service_->free_slots_;
    }
    ~Slot() {
      {
        std::lock_guard<std::mutex> lock(service_->slots_mutex_);
        ++service_->free_slots_;
      }
      service_->slot_freed_.notify_one();
    }
    Slot(const Slot &) = delete;
    Slot &operator=(const Slot &) = delete;

   private:
    RunFunctionService *service_;
  };

  fmc_handler handler_;
  void *context_;
  std::mutex slots_mutex_;
  std::condition_variable slot_freed_;
  int free_slots_;
};

void WriteError(char *error, size_t error_len, const std::string &message) {
  if (error == nullptr || error_len == 0) return;
  std::snprintf(error, error_len, "%s", message.c_str());
}

}  // namespace

struct fmc_server {
  std::unique_ptr<RunFunctionService> service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  std::once_flag shutdown_once;
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
  if (cert_pem != nullptr && key_pem != nullptr && ca_pem != nullptr) {
    grpc::SslServerCredentialsOptions options(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    options.pem_root_certs = ca_pem;
    options.pem_key_cert_pairs.push_back({key_pem, cert_pem});
    credentials = grpc::SslServerCredentials(options);
  } else if (cert_pem == nullptr && key_pem == nullptr && ca_pem == nullptr) {
    credentials = grpc::InsecureServerCredentials();
  } else {
    WriteError(error, error_len,
               "TLS needs a certificate, a key and a client CA together");
    return nullptr;
  }

  auto result = std::make_unique<fmc_server>();
  result->service =
      std::make_unique<RunFunctionService>(handler, handler_context,
                                           max_concurrent_calls);

  // Must precede BuildAndStart, or the health service is not registered.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default, so a second server on a busy port
  // would start and silently share connections. Fail loudly instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(max_receive_bytes);
  builder.SetMaxSendMessageSize(-1);
  builder.AddListeningPort(address, credentials, &result->port);
  builder.RegisterService(result->service.get());
  result->server = builder.BuildAndStart();
  if (result->server == nullptr || result->port == 0) {
    WriteError(error, error_len,
               std::string("cannot listen on ") + address +
                   ": the address is invalid or already in use");
    if (result->server != nullptr) result->server->Shutdown();
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
