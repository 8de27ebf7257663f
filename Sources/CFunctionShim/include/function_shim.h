// function_shim.h: the whole C surface of the gRPC C++ server.
//
// One RPC, one callback, plain bytes across the boundary. The shim serves
// Crossplane's RunFunction (v1 and v1beta1) and the standard gRPC health
// service, and can call RunFunction as a client (for `render --target`); it
// knows nothing of what the bytes mean. Everything else lives in
// Swift (FunctionServer).
#ifndef FUNCTION_SHIM_H
#define FUNCTION_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// An opaque running server.
typedef struct fmc_server fmc_server;

/// Which RunFunction method a call arrived on.
typedef enum {
  FMC_API_V1 = 1,
  FMC_API_V1BETA1 = 2,
} fmc_api_version;

/// Handles one RunFunction call. Called concurrently from the shim's worker
/// threads (`max_concurrent_calls` of them), so it must be thread-safe, and it
/// must not block on other calls. The shim calls it only for a call whose
/// client is still waiting and whose deadline has not passed; calls that
/// were cancelled or ran out of time while queued are answered
/// CANCELLED/DEADLINE_EXCEEDED without reaching the handler.
///
/// Returns a gRPC status code (0 = OK). On OK, `*response` must point to
/// `*response_len` bytes inside the malloc'd block `*response_owner`; gRPC
/// sends them without a copy and the shim frees the block with free() once
/// sent. Otherwise `*error_message` may point to a NUL-terminated malloc'd
/// string that becomes the status message; the shim frees it. `request` is
/// only valid during the call. `waited_ns` is how long the call queued for
/// a slot (see `max_concurrent_calls`).
typedef int (*fmc_handler)(void *context, fmc_api_version api,
                           const uint8_t *request, size_t request_len,
                           uint64_t waited_ns,
                           const uint8_t **response, size_t *response_len,
                           void **response_owner, char **error_message);

/// Routes gRPC's own log lines to stderr as JSON lines; `debug` lowers the
/// threshold from ERROR to DEBUG. Call once, before starting a server.
/// Exists because gRPC's log hook is a C function pointer; the shim also
/// writes its own lines (calls skipped while queued) in the same format.
void fmc_configure_logging(int debug);

/// Builds and starts a server listening on `address` (e.g. "0.0.0.0:9443").
///
/// With all of `cert_pem`, `key_pem` and `ca_pem` non-NULL the server speaks
/// TLS and requires a client certificate signed by `ca_pem` (mTLS); with all
/// three NULL it speaks plaintext. `max_receive_bytes` bounds one request.
/// The shim runs `max_concurrent_calls` (at least 1) worker threads that call
/// `handler`; further calls queue (holding only what gRPC received) and are
/// dropped without work if their client leaves or their deadline passes
/// while they wait. gRPC's own threads do no composing, so the process's
/// thread count does not grow with the number of concurrent calls.
/// On failure returns NULL and writes a reason into `error` (NUL-terminated,
/// at most `error_len` bytes): an address that cannot be bound and TLS
/// material gRPC rejects are told apart.
fmc_server *fmc_server_start(const char *address, const char *cert_pem,
                             const char *key_pem, const char *ca_pem,
                             int max_receive_bytes, int max_concurrent_calls,
                             fmc_handler handler,
                             void *handler_context, char *error,
                             size_t error_len);

/// The TCP port the server is bound to (useful with port 0).
int fmc_server_port(const fmc_server *server);

/// Blocks until the server has shut down.
void fmc_server_wait(fmc_server *server);

/// Stops accepting calls, lets every call already received (queued or
/// running) finish for up to `grace_ms` milliseconds, then cancels the rest:
/// queued calls are then dropped without work, a running handler is waited
/// for. Blocks until done. Safe to call from any thread, once or more.
void fmc_server_shutdown(fmc_server *server, int64_t grace_ms);

/// Frees a server that has shut down.
void fmc_server_free(fmc_server *server);

/// Calls RunFunction (v1) once on a plaintext server at `target`
/// ("host:port"), for `render --target`. Returns a gRPC status code; on OK
/// `*response` is a malloc'd buffer of `*response_len` bytes, otherwise
/// `*error_message` may be a malloc'd NUL-terminated string. The caller frees
/// both with free().
int fmc_client_call(const char *target, const uint8_t *request,
                    size_t request_len, int timeout_ms, uint8_t **response,
                    size_t *response_len, char **error_message);

/// Returns freed heap memory to the OS (glibc's malloc_trim; a no-op
/// elsewhere). Swift's Glibc module does not expose malloc_trim.
void fmc_release_free_memory(void);

/// Tunes glibc malloc for a server of large messages: heap reuse instead of
/// fresh mmaps for big blocks, and one arena per core. Call once, at startup.
void fmc_tune_allocator(void);

#ifdef __cplusplus
}
#endif

#endif  // FUNCTION_SHIM_H
