// NodeFileService: `tarn node serve`, a node's file service for the shuffle files its
// map tasks wrote on its local disk (scale/node_scratch.h, docs/scale-out.md
// "Shuffle on the nodes' disks"). One per node, started by the operator (systemd,
// or the test cluster's script) next to slurmd.
//
// It serves HTTPS under a self-signed certificate it makes at start (an EC P-256 key
// that never leaves the node's scratch root, 0600); the server learns the
// certificate's SHA-256 from the map tasks' reports and hands it to the tasks that
// fetch, which trust exactly that certificate. Its routes:
//
//   GET    /v1/node/files/{dir}?file=REL   one file of a map task's folder
//   DELETE /v1/node/files/{dir}            the whole folder
//
// each with "Authorization: Capability <secret>", the folder's capability (64 hex
// digits). A wrong capability, a missing folder or file and a malformed name get the
// same 404 "no such files", so a caller learns nothing of other runs' folders. No
// other path is served: names are plain (node_scratch.h), never "..".
//
// Folders older than `keep` are removed (at start and every few minutes): those of
// runs whose server could not reach the node when they ended.
//
// Thread-safety: Start/Shutdown from one controlling thread.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

namespace tarn::server {

struct NodeFileServiceOptions {
  std::filesystem::path root;    // the node's scratch root (made 0700 if missing)
  std::string host = "0.0.0.0";  // listen address
  uint16_t port = 0;             // 0: any free port
  std::string advertise;         // the host name other nodes reach it by ("": this host's name)
  std::chrono::hours keep{24};   // folders older than this are removed
  int workers = 4;               // threads serving requests
};

class NodeFileService {
 public:
  explicit NodeFileService(NodeFileServiceOptions options);
  ~NodeFileService();
  // Makes the key and certificate, binds, writes `root`/service.json and serves.
  // Throws kIo if the address cannot be bound or the root not made.
  void Start();
  // The URL in service.json (https://advertise:port).
  std::string url() const;
  std::string sha256() const;
  // Stops serving and removes service.json (a node without a service gets its
  // shuffle on the shared filesystem).
  void Shutdown();
  void Wait();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// A task's copy of a shuffle file another node wrote (an entry of its "fetch",
// scale/worker.h): fetched from that node's service into `to`, written then renamed.
// kIo if the node cannot be reached or does not have it.
void FetchNodeFile(const nlohmann::json& from, const std::filesystem::path& to);

// Removes a map task's folder on its node (its "node_files"); kIo if that fails.
void RemoveNodeFiles(const nlohmann::json& node_files);

}  // namespace tarn::server
