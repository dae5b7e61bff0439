// Reading XML parts of a zip archive (an .xlsx) as a stream of events. Internal to
// src/files.
#pragma once

#include <zip.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace tarn::files {

// Receives the elements of one XML part. Names come without their namespace prefix
// ("x:row" is "row"), attributes as name/value pairs ending in a null name.
class XmlHandler {
 public:
  virtual ~XmlHandler() = default;
  virtual void Start(std::string_view name, const char** attributes) = 0;
  virtual void End(std::string_view name) = 0;
  virtual void Text(std::string_view text) = 0;
};

// The value of attribute `name` (without prefix) in an expat attribute list, or null.
const char* Attribute(const char** attributes, std::string_view name);

// An open zip archive. kInvalidArgument if `path` is no zip (so no .xlsx).
class ZipArchive {
 public:
  explicit ZipArchive(const std::filesystem::path& path);
  ~ZipArchive();
  ZipArchive(const ZipArchive&) = delete;
  ZipArchive& operator=(const ZipArchive&) = delete;

  bool Has(const std::string& part) const;
  // Streams part `part` through an XML parser to `handler`. kInvalidArgument for a
  // missing part, XML that does not parse, or a part that unpacks to more than
  // `max_bytes` (a zip bomb is refused, not unpacked).
  void ParseXml(const std::string& part, XmlHandler& handler, int64_t max_bytes = int64_t{4} << 30) const;

 private:
  std::string name_;
  zip_t* zip_ = nullptr;
};

}  // namespace tarn::files
