// Tokenizer::load: picks the loader from what the path is.

#include "io/gguf_reader.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/hf_json_loader.h"
#include "tokenizer/sentencepiece_model.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace scitune {

namespace fs = std::filesystem;

namespace {

std::string view_of(const MappedFile& f) { return std::string(reinterpret_cast<const char*>(f.data()), f.size()); }

// Reads the optional files transformers reads beside the tokenizer.
void apply_folder_files(TokenizerSpec& spec, const fs::path& dir, bool sentencepiece) {
  apply_tokenizer_config(spec, dir / "tokenizer_config.json", dir / "special_tokens_map.json", sentencepiece);
  const fs::path jinja = dir / "chat_template.jinja";
  if (fs::exists(jinja)) spec.chat_template = view_of(MappedFile(jinja));
}

Tokenizer load_file(const fs::path& path) {
  MappedFile file(path);
  const std::string name = path.filename().string();
  const bool gguf = file.size() >= 4 && std::string_view(reinterpret_cast<const char*>(file.data()), 4) == "GGUF";
  if (gguf) return Tokenizer::from_spec(spec_from_gguf(GgufFile::open(path)));
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  if (path.extension() == ".json") {
    const std::string_view text(reinterpret_cast<const char*>(file.data()), file.size());
    TokenizerSpec spec = parse_tokenizer_json(text, name);
    if (name == "tokenizer.json") apply_folder_files(spec, dir, false);
    return Tokenizer::from_spec(std::move(spec));
  }
  if (path.extension() == ".model") {
    TokenizerSpec spec = spec_from_sentencepiece(parse_sentencepiece_model(file.bytes(), name), name);
    apply_folder_files(spec, dir, true);
    return Tokenizer::from_spec(std::move(spec));
  }
  fail(path.string() + ": not a tokenizer (expected tokenizer.json, tokenizer.model, a .gguf or a model folder)");
}

}  // namespace

Tokenizer Tokenizer::load(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const char* name : {"tokenizer.json", "tokenizer.model"})
      if (fs::exists(path / name)) return load_file(path / name);
    fail(path.string() + ": no tokenizer.json or tokenizer.model in this folder");
  }
  if (!fs::exists(path, ec)) fail(path.string() + ": no such file or folder");
  return load_file(path);
}

}  // namespace scitune
