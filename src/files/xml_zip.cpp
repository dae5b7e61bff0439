#include "files/xml_zip.h"

#include <expat.h>

#include <exception>
#include <memory>
#include <vector>

#include "common/error.h"

namespace tarn::files {
namespace {

std::string_view Local(const char* name) {
  std::string_view n(name);
  auto colon = n.rfind(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

// The handler's exceptions must not unwind through expat (C): each callback keeps
// the first one and stops the parser; ParseXml throws it after XML_Parse returns.
struct Context {
  XmlHandler* handler;
  XML_Parser parser;
  std::exception_ptr error;
};

template <typename F>
void Guarded(void* data, F&& f) {
  auto* ctx = static_cast<Context*>(data);
  if (ctx->error) return;
  try {
    f(*ctx->handler);
  } catch (...) {
    ctx->error = std::current_exception();
    XML_StopParser(ctx->parser, XML_FALSE);
  }
}

void XMLCALL OnStart(void* data, const char* name, const char** attributes) {
  Guarded(data, [&](XmlHandler& h) { h.Start(Local(name), attributes); });
}
void XMLCALL OnEnd(void* data, const char* name) {
  Guarded(data, [&](XmlHandler& h) { h.End(Local(name)); });
}
void XMLCALL OnText(void* data, const char* text, int len) {
  Guarded(data, [&](XmlHandler& h) { h.Text(std::string_view(text, static_cast<size_t>(len))); });
}

struct ParserFree {
  void operator()(XML_Parser p) const { XML_ParserFree(p); }
};
struct ZipFileClose {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

}  // namespace

const char* Attribute(const char** attributes, std::string_view name) {
  for (size_t i = 0; attributes[i]; i += 2) {
    if (Local(attributes[i]) == name) return attributes[i + 1];
  }
  return nullptr;
}

ZipArchive::ZipArchive(const std::filesystem::path& path) : name_(path.filename().string()) {
  int error = 0;
  zip_ = zip_open(path.c_str(), ZIP_RDONLY, &error);
  if (!zip_) {
    if (error == ZIP_ER_NOENT || error == ZIP_ER_OPEN || error == ZIP_ER_READ)
      throw Error::Io("cannot read {}", name_);
    throw Error::InvalidArgument("{} is not an .xlsx workbook (it is no zip archive)", name_);
  }
}

ZipArchive::~ZipArchive() {
  if (zip_) zip_discard(zip_);
}

bool ZipArchive::Has(const std::string& part) const { return zip_name_locate(zip_, part.c_str(), 0) >= 0; }

void ZipArchive::ParseXml(const std::string& part, XmlHandler& handler, int64_t max_bytes) const {
  std::unique_ptr<zip_file_t, ZipFileClose> file(zip_fopen(zip_, part.c_str(), 0));
  if (!file) throw Error::InvalidArgument("{} is not an .xlsx workbook: it has no {}", name_, part);
  std::unique_ptr<std::remove_pointer_t<XML_Parser>, ParserFree> parser(XML_ParserCreate(nullptr));
  if (!parser) throw Error::ResourceExhausted("out of memory reading {}", name_);
  Context ctx{&handler, parser.get(), nullptr};
  XML_SetUserData(parser.get(), &ctx);
  XML_SetElementHandler(parser.get(), OnStart, OnEnd);
  XML_SetCharacterDataHandler(parser.get(), OnText);
  std::vector<char> buffer(1 << 16);
  int64_t total = 0;
  for (;;) {
    zip_int64_t n = zip_fread(file.get(), buffer.data(), buffer.size());
    if (n < 0) throw Error::InvalidArgument("{}: part {} cannot be unpacked", name_, part);
    total += n;
    if (total > max_bytes) throw Error::InvalidArgument("{}: part {} unpacks to more than {} bytes", name_, part, max_bytes);
    auto status = XML_Parse(parser.get(), buffer.data(), static_cast<int>(n), n == 0);
    if (ctx.error) std::rethrow_exception(ctx.error);
    if (status == XML_STATUS_ERROR) {
      throw Error::InvalidArgument("{}: part {} is not valid XML (line {}: {})", name_, part,
                                   XML_GetCurrentLineNumber(parser.get()),
                                   XML_ErrorString(XML_GetErrorCode(parser.get())));
    }
    if (n == 0) break;
  }
}

}  // namespace tarn::files
