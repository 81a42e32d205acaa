#include "tokenizer/piece_index.h"

namespace scitune::tok {

PieceIndex::PieceIndex(const std::vector<std::string>* pieces) : pieces_(pieces) {
  size_t cap = 16;
  while (cap < pieces->size() * 2) cap *= 2;
  slots_.assign(cap, Slot{});
  mask_ = cap - 1;
  for (size_t id = 0; id < pieces->size(); ++id) {
    const std::string& p = (*pieces)[id];
    const uint64_t h = hash(p);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.id < 0) {
        s = {h, int32_t(id)};
        break;
      }
      if (s.hash == h && (*pieces)[s.id] == p) {
        if (!duplicate_) duplicate_ = int32_t(id);
        break;
      }
    }
  }
}

}  // namespace scitune::tok
