#include "tokenizer/bpe.h"

#include <algorithm>
#include <cstdio>

#include "tokenizer/utf8.h"
#include "util/error.h"

namespace scitune::tok {

void PairMap::reserve(size_t n) {
  size_t cap = 16;
  while (cap < n * 2) cap *= 2;
  if (cap <= slots_.size()) return;
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(cap, Slot{});
  mask_ = cap - 1;
  size_ = 0;
  for (const Slot& s : old)
    if (s.key != kEmpty) insert_or_assign(int32_t(s.key >> 32), int32_t(uint32_t(s.key)), s.value);
}

void PairMap::grow() { reserve(slots_.empty() ? 8 : slots_.size()); }

void PairMap::insert_or_assign(int32_t left, int32_t right, Value v) {
  if ((size_ + 1) * 2 > slots_.size()) grow();
  const uint64_t key = pack(left, right);
  for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.key == key) {
      s.value = v;
      return;
    }
    if (s.key == kEmpty) {
      s.key = key;
      s.value = v;
      ++size_;
      return;
    }
  }
}

BpeModel::BpeModel(const std::vector<std::string>& pieces, const std::vector<std::pair<int32_t, int32_t>>& merges,
                   bool byte_fallback, int32_t unk_id, bool fuse_unk, const std::string& source)
    : pieces_(&pieces), vocab_(&pieces), byte_fallback_(byte_fallback), fuse_unk_(fuse_unk), unk_id_(unk_id) {
  if (auto dup = vocab_.first_duplicate()) fail(source + ": the piece \"" + pieces[*dup] + "\" appears twice");
  bmp_ids_.assign(0x10000, -1);
  byte_ids_.fill(-1);
  for (size_t i = 0; i < pieces.size(); ++i) {
    const std::string& p = pieces[i];
    if (!p.empty() && utf8_len(uint8_t(p[0])) == p.size()) {
      size_t pos = 0;
      const char32_t cp = next_code_point(p, pos);
      if (cp < 0x10000) bmp_ids_[cp] = int32_t(i);
    }
  }
  // HF formats the fallback piece as "<0x%02X>".
  char name[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    if (auto id = vocab_.find(name)) byte_ids_[b] = *id;
  }
  merges_.reserve(merges.size());
  std::string joined;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto [l, r] = merges[rank];
    SCITUNE_CHECK(l >= 0 && r >= 0 && size_t(l) < pieces.size() && size_t(r) < pieces.size(), "merge id range");
    joined.assign(pieces[l]);
    joined += pieces[r];
    const auto id = vocab_.find(joined);
    if (!id)
      fail(source + ": merge " + std::to_string(rank) + " (\"" + pieces[l] + "\", \"" + pieces[r] + "\") makes \"" +
           joined + "\", which is not in the vocabulary");
    merges_.insert_or_assign(l, r, {uint32_t(rank), *id});
  }
}

std::optional<int32_t> BpeModel::piece_id(std::string_view piece) const { return vocab_.find(piece); }

int32_t BpeModel::char_id(std::string_view ch, char32_t cp) const {
  if (cp < 0x10000) return bmp_ids_[cp];
  return vocab_.find(ch).value_or(-1);
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& out, BpeScratch& scratch) const {
  auto& sym = scratch.symbols;
  sym.clear();
  auto add = [&](int32_t id) {
    const int32_t n = int32_t(sym.size());
    sym.push_back({id, n - 1, n + 1, true});
  };
  // HF keeps one pending unknown so that a run of unknown characters becomes one symbol (fuse_unk). Its
  // byte-fallback branch does not flush the pending unknown first; mirrored, though it only matters when
  // some <0xNN> pieces are missing.
  bool pending_unk = false;
  size_t pos = 0;
  while (pos < word.size()) {
    const size_t start = pos;
    const char32_t cp = next_code_point(word, pos);
    const std::string_view ch = word.substr(start, pos - start);
    const int32_t id = char_id(ch, cp);
    if (id >= 0) {
      if (pending_unk) add(unk_id_);
      pending_unk = false;
      add(id);
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (char c : ch) all = all && byte_ids_[uint8_t(c)] >= 0;
      if (all) {
        for (char c : ch) add(byte_ids_[uint8_t(c)]);
        continue;
      }
    }
    if (unk_id_ >= 0) {
      if (pending_unk && !fuse_unk_) add(unk_id_);
      pending_unk = true;
    }
  }
  if (pending_unk) add(unk_id_);
  if (sym.empty()) return;
  sym.back().next = -1;

  // Min-heap on (rank, position).
  auto later = [](const BpeScratch::Merge& a, const BpeScratch::Merge& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  };
  auto& heap = scratch.heap;
  heap.clear();
  for (size_t i = 0; i + 1 < sym.size(); ++i)
    if (const PairMap::Value* m = merges_.find(sym[i].id, sym[i + 1].id)) heap.push_back({m->rank, int32_t(i), m->id});
  std::make_heap(heap.begin(), heap.end(), later);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const BpeScratch::Merge top = heap.back();
    heap.pop_back();
    BpeScratch::Symbol& cur = sym[top.pos];
    if (!cur.alive || cur.next < 0) continue;
    const int32_t next_pos = cur.next;
    const BpeScratch::Symbol right = sym[next_pos];
    const PairMap::Value* m = merges_.find(cur.id, right.id);
    if (!m || m->id != top.id) continue;  // stale entry
    cur.id = top.id;
    cur.next = right.next;
    sym[next_pos].alive = false;
    if (right.next >= 0) sym[right.next].prev = top.pos;
    if (cur.prev >= 0) {
      if (const PairMap::Value* pm = merges_.find(sym[cur.prev].id, cur.id)) {
        heap.push_back({pm->rank, cur.prev, pm->id});
        std::push_heap(heap.begin(), heap.end(), later);
      }
    }
    if (cur.next >= 0) {
      if (const PairMap::Value* nm = merges_.find(cur.id, sym[cur.next].id)) {
        heap.push_back({nm->rank, top.pos, nm->id});
        std::push_heap(heap.begin(), heap.end(), later);
      }
    }
  }
  for (int32_t i = 0; i >= 0; i = sym[i].next) out.push_back(sym[i].id);
}

}  // namespace scitune::tok
