// The flags every command that talks to a server shares: --server, --profile,
// --token, --ca-file, --insecure.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "cli/remote.h"

namespace tarn::cli {

struct RemoteFlags {
  std::string server;
  std::string profile;
  std::string token;
  std::string ca_file;
  bool insecure = false;
  bool server_required = false;

  // With `server_required`, Options() throws unless --server, $TARN_SERVER or a
  // profile names one; without, no server means local mode.
  void AddTo(CLI::App* cmd, bool required) {
    server_required = required;
    cmd->add_option("--server", server, "Server URL, e.g. http://127.0.0.1:8998 (default: $TARN_SERVER)")
        ->envname("TARN_SERVER");
    cmd->add_option(
           "--profile", profile,
           "A named login (tarn login --profile NAME); its server and token (default: $TARN_PROFILE)")
        ->envname("TARN_PROFILE");
    cmd->add_option("--token", token,
                    "Bearer token (default: $TARN_TOKEN, else the one `tarn login` cached)");
    cmd->add_option("--ca-file", ca_file, "PEM file of the CA that signed the server's certificate");
    cmd->add_flag("--insecure", insecure, "Do not verify the server's TLS certificate (testing only)");
  }
  RemoteOptions Options() const {
    RemoteOptions r;
    r.server = server;
    r.profile = profile;
    r.token = token;
    r.client.ca_file = ca_file;
    r.client.insecure = insecure;
    return remote() ? Resolve(r) : r;
  }
  // Whether the command talks to a server (else it works on a data directory).
  bool remote() const { return server_required || !server.empty() || !profile.empty(); }
};

}  // namespace tarn::cli
