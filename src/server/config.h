// ServerConfig: everything `tarn server` can be told, with defaults that make the
// embedded mode work with no file at all. Loaded once from an optional TOML file
// (--config tarn.toml) and then from command-line flags, which win.
//
//   listen = "127.0.0.1:8998"
//   [tls]      cert = "server.pem"   key = "server.key"        (HTTPS when both are set)
//   [limits]   max_body_bytes, max_upload_bytes, upload_timeout_s, max_header_bytes, read_timeout_s,
//   idle_timeout_s,
//              workers, max_queue, max_connections, statement_timeout_s,
//              max_result_rows, max_result_bytes, shutdown_grace_s
//   [identity] issuer (default: the server's own URL), audience = "tarn",
//              token_ttl_s = 3600, algorithm = "RS256" | "ES256"
//   [[identity.trusted_issuers]]  issuer, audience, jwks_file | jwks_url,
//              user_claim = "sub", groups_claim = "groups", refresh_s = 300
//   [jobs]     workers = 16 (job runs executing at once, over all applications),
//              external_identity_ttl = "12h" (trust in an external token's groups)
//   [livy]     base_path = "/" (where /sessions and /batches are served),
//              workers = 8 (Livy statements running at once), max_result_rows = 1000,
//              allow_basic_over_http = false (HTTP Basic from other machines without TLS),
//              csrf = false (require X-Requested-By on POST/DELETE), max_statements = 100,
//              session_idle_timeout = "1h", keep_ended_sessions = "10m"
//   [studio]   session_idle = "30m", session_max = "12h"   (the studio's sign-in sessions),
//              assets = "/usr/share/tarn/studio"             (its built front end)
//   [studio.identity_provider] issuer, client_id, ...         (sign in at an external IdP)
//   [connections.NAME]  url = "postgresql://reader@db:5432/crm", password_file = "crm.pass",
//              users = ["alice"], groups = ["migration"]   (PostgreSQL databases validations
//              may read: quality/external.h; neither users nor groups: nobody may use it)
//   [slurm]    worker_url = "https://tarn.internal:8998" (how workers on the nodes reach this
//              server; default its own URL), worker_program = "/usr/bin/tarn" (the tarn
//              binary on the nodes; default this server's own), worker_ca_file (the PEM the
//              workers trust for this server's certificate), node_poll = "5s" (how often
//              the nodes' states are read), scale_idle = "5m" (how long a power-saving
//              node idles before managed scaling powers it down), rest_socket =
//              "/run/slurmrestd/tarn.socket" (submit, watch and cancel jobs through
//              slurmrestd on that UNIX socket instead of sbatch), node_scratch =
//              "/local/tarn" (each node's scratch root, %n its name: map tasks write the
//              shuffle there where `tarn node serve` runs). docs/scale-out.md
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "quality/external.h"

namespace tarn::server {

struct TrustedIssuerConfig {
  std::string issuer;
  std::string audience;
  std::string jwks_file;  // a JWKS document on disk, or
  std::string jwks_url;   // fetched over HTTP(S) and cached
  std::string user_claim = "sub";
  std::string groups_claim = "groups";
  int refresh_s = 300;
};

// [studio.identity_provider]: the studio signs people in at this external OIDC
// issuer (docs/studio.md) instead of the built-in login page.
struct StudioIdpConfig {
  std::string issuer;  // one of identity.trusted_issuers; "" = the built-in provider
  std::string client_id;
  std::filesystem::path client_secret_file;  // a confidential client's secret ("" = public client)
  std::string authorization_endpoint;        // "" = from the issuer's discovery document
  std::string token_endpoint;                // likewise
  std::string scopes = "openid";
  std::string token = "id_token";  // which returned token is verified: id_token or access_token
  std::string ca_file;             // PEM bundle to trust for its endpoints ("" = the system's)
  bool enabled() const { return !issuer.empty(); }
};

struct ServerConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8998;
  std::filesystem::path tls_cert, tls_key;

  size_t max_body_bytes = 1 << 20;
  // The upload route (upload_routes.h) takes bodies up to this, within upload_timeout_s.
  size_t max_upload_bytes = size_t{256} << 20;
  int upload_timeout_s = 600;
  size_t max_header_bytes = 16 << 10;
  int read_timeout_s = 10;  // to receive a whole request once it started
  int idle_timeout_s = 60;  // to wait for the next request on a kept-alive connection
  int workers = 8;          // threads running handlers
  size_t max_queue = 256;   // requests waiting for a worker; beyond: 429
  size_t max_connections = 4096;
  int statement_timeout_s = 300;
  size_t max_result_rows = 100000;
  size_t max_result_bytes = 256 << 20;
  int shutdown_grace_s = 20;

  std::string issuer;  // empty: the server's own base URL
  std::string audience = "tarn";
  int token_ttl_s = 3600;
  std::string algorithm = "RS256";
  std::vector<TrustedIssuerConfig> trusted_issuers;
  int job_workers = 16;  // [jobs] workers
  // [jobs] external_identity_ttl: seconds, or text with a unit ("12h", "30m", "90s").
  int64_t job_external_identity_ttl_s = 12 * 3600;
  // For tests, never from a file: the job scheduler's clock (ms since the epoch;
  // null: the system clock) and how often it looks for due schedules.
  std::function<int64_t()> job_clock;
  // For tests: the clock of job timeouts and external identities' TTL (null: the system clock).
  std::function<int64_t()> job_deadline_clock;
  int job_schedule_poll_ms = 1000;
  std::string slurm_worker_url;                // [slurm] worker_url ("": BaseUrl())
  std::filesystem::path slurm_worker_program;  // [slurm] worker_program ("": /proc/self/exe)
  std::string slurm_worker_ca_file;            // [slurm] worker_ca_file
  std::filesystem::path slurm_rest_socket;     // [slurm] rest_socket: submit through slurmrestd there
  std::string slurm_node_scratch;              // [slurm] node_scratch: the nodes' scratch root (%n: node)
  int slurm_node_poll_ms = 5000;               // [slurm] node_poll: how often the nodes are looked at
  int64_t slurm_scale_idle_ms = 300000;        // [slurm] scale_idle: a node idle this long is powered down
  int slurm_poll_ms = 250;                     // for tests, never from a file
  std::string livy_base_path = "/";            // [livy] base_path
  int livy_workers = 8;                        // [livy] workers
  int64_t livy_max_result_rows = 1000;         // [livy] max_result_rows
  bool livy_allow_basic_over_http = false;     // [livy] allow_basic_over_http
  bool livy_csrf = false;                      // [livy] csrf: X-Requested-By on POST and DELETE
  int64_t livy_max_statements = 100;           // [livy] max_statements kept per session
  int64_t livy_session_idle_timeout_s = 3600;  // [livy] session_idle_timeout
  int64_t livy_keep_ended_sessions_s = 600;    // [livy] keep_ended_sessions
  // For tests, never from a file: the Livy reaper's clock (ms) and interval.
  std::function<int64_t()> livy_clock;
  int livy_reap_interval_ms = 1000;

  std::vector<quality::ExternalConnection> connections;  // [connections.NAME]

  int64_t studio_session_idle_s = 1800;  // [studio] session_idle: a session unused this long ends
  int64_t studio_session_max_s = 43200;  // [studio] session_max: and any session this old
  // [studio] assets: the built front end's folder ("": next to the executable, see
  // StaticAssets::Load).
  std::filesystem::path studio_assets;
  StudioIdpConfig studio_idp;  // [studio.identity_provider]

  // A bearer token a metrics scraper may use for GET /metrics alone ("": none).
  std::string metrics_token;

  bool tls() const { return !tls_cert.empty(); }
  std::string BaseUrl() const;
};

// Reads a TOML file over the defaults; throws kInvalidArgument naming the key and
// the problem for unknown keys, wrong types and impossible values.
ServerConfig LoadConfig(const std::filesystem::path& file);

// Parses "host:port" into the config; throws kInvalidArgument.
void SetListen(ServerConfig& config, const std::string& listen);

// Checks the combination (TLS cert and key together, files exist, limits > 0).
void Validate(const ServerConfig& config);

}  // namespace tarn::server
