// Node scratch: a run's shuffle files on the local disk of the node whose map task
// wrote them, served to the other nodes' tasks by that node's file service (`tarn
// node serve`, server/node_files.h), instead of written to and read back from the
// shared filesystem (docs/scale-out.md, "Shuffle on the nodes' disks";
// docs/decisions/0034).
//
// A node's scratch root (e.g. /local/tarn, or /tmp/tarn/%n with %n the Slurm node
// name when several nodes share a host) holds:
//
//   service.json       {"url", "sha256"}: where the node's file service listens and
//                      the SHA-256 of its certificate (self-signed, made at start);
//   files/<dir>/       one map task's output: its Parquet files by bucket and
//                      `.capability`, the SHA-256 of the secret that opens the folder.
//
// A map task with a node scratch root whose service.json exists writes there, makes
// a fresh 256-bit secret (the capability), and reports {url, sha256, dir, capability,
// files} to the server; the server hands those to the bucket tasks that read the
// files (over HTTPS, with the task credential), and removes the folder when the run's
// attempt ends. Without a service the task writes to the shared scratch as before.
//
// Thread-safety: the functions are thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace tarn::scale {

struct NodeService {
  std::string url;     // https://host:port
  std::string sha256;  // lower-case hex of the certificate's DER encoding
  int64_t pid = 0;     // the service's process on this node (0: not known)
};

// `pattern` with each %n replaced by `node`; kInvalidArgument if the result is not
// an absolute path or `node` is not a plain name.
std::filesystem::path NodeScratchRoot(const std::string& pattern, const std::string& node);

// The service a node's scratch root names, if its service.json is there, well formed
// and its process still runs (a service that was killed leaves its file behind).
std::optional<NodeService> ReadNodeService(const std::filesystem::path& root);
void WriteNodeService(const std::filesystem::path& root, const NodeService& service);

// A folder name is letters, digits, '.', '-', '_' and '=' only (1-200 characters), never
// "." or ".."; a file inside it a relative path of such names, none starting with '.'
// (the folder's .capability is never served).
bool IsScratchName(const std::string& name);
bool IsScratchFile(const std::string& relative);

// Makes `dir` openable by the returned secret (64 hex digits): writes its hash into
// `dir`/.capability (0600).
std::string SealFolder(const std::filesystem::path& dir);
// Whether `capability` opens `dir` (constant-time compare; false if `dir` has none).
bool Opens(const std::filesystem::path& dir, const std::string& capability);

// What a map task reports of the files it wrote into `dir` (a folder of `root`/files)
// for `service`: {url, sha256, dir, capability, files: [{name, bytes}]}.
nlohmann::json DescribeNodeFiles(const NodeService& service, const std::filesystem::path& dir,
                                 const std::string& capability);

}  // namespace tarn::scale
