#include "io/json_limits.h"

#include <gtest/gtest.h>

#include <string>

#include "util/error.h"
#include "test_util.h"

namespace scitune {
namespace {

using ::scitune::testing::error_of;

TEST(JsonLimits, ParsesValidJson) {
  auto j = parse_json_strict(R"({"a": [1, 2, {"b": "x"}], "c": null})", "t.json");
  EXPECT_EQ(j["a"][2]["b"], "x");
  EXPECT_TRUE(j["c"].is_null());
}

TEST(JsonLimits, RejectsDuplicateKeyAndNamesThePath) {
  auto msg = error_of([] { parse_json_strict(R"({"w": {"x": 1, "y": 2, "x": 3}})", "idx.json"); });
  EXPECT_NE(msg.find("idx.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("duplicate key \"x\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("/w"), std::string::npos) << msg;
  msg = error_of([] { parse_json_strict(R"({"a": 1, "a": 1})", "t.json"); });
  EXPECT_NE(msg.find("duplicate key \"a\""), std::string::npos) << msg;
}

TEST(JsonLimits, SameKeyInSiblingObjectsIsFine) {
  auto j = parse_json_strict(R"({"a": {"k": 1}, "b": {"k": 2}, "l": [{"k": 1}, {"k": 2}]})", "t.json");
  EXPECT_EQ(j["b"]["k"], 2);
  EXPECT_EQ(j["l"][1]["k"], 2);
}

TEST(JsonLimits, DepthLimitIsExact) {
  JsonLimits lim;
  lim.max_depth = 3;
  EXPECT_NO_THROW(parse_json_strict(R"({"a": [{"b": 1}]})", "t.json", lim));  // depth 3
  auto msg = error_of([&] { parse_json_strict(R"({"a": [{"b": [1]}]})", "t.json", lim); });
  EXPECT_NE(msg.find("nested deeper than 3"), std::string::npos) << msg;
  // Far deeper than the default limit: rejected, no stack exhaustion.
  std::string deep(100000, '[');
  msg = error_of([&] { parse_json_strict(deep, "deep.json"); });
  EXPECT_NE(msg.find("nested deeper than 64"), std::string::npos) << msg;
}

TEST(JsonLimits, SizeLimit) {
  JsonLimits lim;
  lim.max_bytes = 8;
  auto msg = error_of([&] { parse_json_strict(R"({"abc": 12345})", "t.json", lim); });
  EXPECT_NE(msg.find("more than the limit of 8"), std::string::npos) << msg;
}

TEST(JsonLimits, RejectsInvalidJsonAndInvalidUtf8) {
  auto msg = error_of([] { parse_json_strict("{\"a\": }", "bad.json"); });
  EXPECT_NE(msg.find("bad.json: invalid JSON at byte"), std::string::npos) << msg;
  msg = error_of([] { parse_json_strict("{\"a\": \"\xff\xfe\"}", "u.json"); });
  EXPECT_NE(msg.find("u.json: invalid JSON"), std::string::npos) << msg;
  msg = error_of([] { parse_json_strict("{\"a\": 1} trailing", "t.json"); });
  EXPECT_NE(msg.find("invalid JSON"), std::string::npos) << msg;
  msg = error_of([] { parse_json_strict("{\"a\": 1e999}", "big.json"); });  // found by fuzzing
  EXPECT_NE(msg.find("big.json: invalid JSON"), std::string::npos) << msg;
  msg = error_of([] { parse_json_strict("", "empty.json"); });
  EXPECT_NE(msg.find("empty.json: invalid JSON"), std::string::npos) << msg;
}

TEST(JsonLimits, TypedAccessorsNameFieldAndFoundType) {
  auto j = parse_json_strict(R"({"i": 7, "n": -3, "f": 2.5, "s": "x", "b": true, "big": 18446744073709551615})", "c");
  EXPECT_EQ(json_int(j["i"], "c: \"i\""), 7);
  EXPECT_EQ(json_int(j["n"], "c: \"n\""), -3);
  EXPECT_EQ(json_uint(j["i"], "c: \"i\""), 7u);
  EXPECT_DOUBLE_EQ(json_number(j["i"], "c: \"i\""), 7.0);
  EXPECT_DOUBLE_EQ(json_number(j["f"], "c: \"f\""), 2.5);
  EXPECT_EQ(json_string(j["s"], "c: \"s\""), "x");
  EXPECT_TRUE(json_bool(j["b"], "c: \"b\""));

  auto msg = error_of([&] { json_int(j["f"], "c: \"f\""); });
  EXPECT_EQ(msg, "c: \"f\": expected an integer, found number 2.5");
  msg = error_of([&] { json_uint(j["n"], "c: \"n\""); });
  EXPECT_EQ(msg, "c: \"n\": expected a non-negative integer, found -3");
  msg = error_of([&] { json_int(j["big"], "c: \"big\""); });
  EXPECT_NE(msg.find("out of range"), std::string::npos) << msg;
  msg = error_of([&] { json_string(j["i"], "c: \"i\""); });
  EXPECT_EQ(msg, "c: \"i\": expected a string, found integer 7");
  msg = error_of([&] { json_bool(j["s"], "c: \"s\""); });
  EXPECT_EQ(msg, "c: \"s\": expected true or false, found string");
  msg = error_of([&] { json_object(j["i"], "c: \"i\""); });
  EXPECT_EQ(msg, "c: \"i\": expected an object, found integer 7");
  msg = error_of([&] { json_array(j["s"], "c: \"s\""); });
  EXPECT_EQ(msg, "c: \"s\": expected an array, found string");
}

TEST(JsonLimits, FindTreatsNullAsAbsentByDefault) {
  auto j = parse_json_strict(R"({"a": null, "b": 1})", "t");
  EXPECT_EQ(json_find(j, "a"), nullptr);
  ASSERT_NE(json_find(j, "a", false), nullptr);
  EXPECT_TRUE(json_find(j, "a", false)->is_null());
  ASSERT_NE(json_find(j, "b"), nullptr);
  EXPECT_EQ(json_find(j, "zzz"), nullptr);
  EXPECT_EQ(json_find(j["b"], "x"), nullptr);  // not an object
}

}  // namespace
}  // namespace scitune
