// A tuned pool configuration's file (bench --grid --best --save-config, run --config): written and read
// back the same, and anything else refused in one line naming the file and the key.
#include "onnxpool/pool/tuned_config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "onnxpool/error.hpp"
#include "support/errors.hpp"
#include "support/temp_dir.hpp"

namespace onnxpool {
namespace {

using ::testing::HasSubstr;

TEST(TunedConfig, WrittenAndReadBackTheSame) {
  const TunedConfig config{.workers = 3,
                           .threads = 2,
                           .batch = 8,
                           .policy = Policy::Static,
                           .model = "models/mobilenet v2.onnx",
                           .cpus = 16,
                           .cpu_model = "AMD EPYC 9654",
                           .items_per_s = 1234.5,
                           .p50_ms = 7.25,
                           .by = "onnxpool bench --grid workers=1-4 threads=1,2"};
  test::TempDir dir;
  save_tuned_config(dir / "tuned.json", config);
  const TunedConfig back = load_tuned_config(dir / "tuned.json");
  EXPECT_EQ(back.workers, 3);
  EXPECT_EQ(back.threads, 2);
  EXPECT_EQ(back.batch, 8U);
  EXPECT_EQ(back.policy, Policy::Static);
  EXPECT_EQ(back.model, config.model);
  EXPECT_EQ(back.cpus, 16);
  EXPECT_EQ(back.cpu_model, config.cpu_model);
  EXPECT_DOUBLE_EQ(back.items_per_s, 1234.5);
  EXPECT_DOUBLE_EQ(back.p50_ms, 7.25);
  EXPECT_EQ(back.by, config.by);
  // "tuned" is optional: a hand-written file needs only the pool's shape.
  const auto plain =
      TunedConfig::parse(R"({"onnxpool_config":1,"workers":0,"threads":0,"batch":1,"policy":"dynamic"})", "plain");
  EXPECT_EQ(plain.workers, 0);
  EXPECT_EQ(plain.cpus, 0);
}

TEST(TunedConfig, AnythingElseIsOneLineNamingTheFileAndTheKey) {
  const std::string good = R"("onnxpool_config":1,"workers":2,"threads":1,"batch":1,"policy":"dynamic")";
  const std::vector<std::pair<std::string, std::string>> cases{
      {"", "f.json: not a pool configuration (JSON)"},
      {"{" + good, "f.json: not a pool configuration (JSON)"},
      {"[1,2]", "f.json: not a pool configuration (a JSON object)"},
      {R"({"onnxpool_config":2})", "f.json: a pool configuration of version 2; this onnxpool reads version 1"},
      {R"({"workers":2})", "f.json: \"onnxpool_config\" must be a whole number"},
      {"{" + good + R"(,"wrokers":3})", "f.json: unknown key \"wrokers\" (known: "},
      {R"({"onnxpool_config":1,"workers":-1,"threads":1,"batch":1,"policy":"dynamic"})",
       "f.json: \"workers\" is -1: it must be from 0 to 1048576"},
      {R"({"onnxpool_config":1,"workers":"2","threads":1,"batch":1,"policy":"dynamic"})",
       "f.json: \"workers\" must be a whole number from 0 to 1048576"},
      {R"({"onnxpool_config":1,"workers":1e300,"threads":1,"batch":1,"policy":"dynamic"})",
       "f.json: \"workers\" must be a whole number"},
      {R"({"onnxpool_config":1,"workers":1,"threads":1,"batch":0,"policy":"dynamic"})",
       "f.json: \"batch\" is 0: it must be from 1 to 1048576"},
      {R"({"onnxpool_config":1,"workers":1,"threads":1,"batch":1,"policy":"fast"})", "f.json: \"policy\": "},
      {R"({"onnxpool_config":1,"workers":1,"threads":1,"batch":1})", "f.json: no \"policy\""},
      {"{" + good + R"(,"tuned":[]})", "f.json: \"tuned\" must be an object"},
      {"{" + good + R"(,"tuned":{"cpus":"many"}})", "f.json: \"tuned\": \"cpus\" must be a whole number"},
      {"{" + good + R"(,"tuned":{"gpu":1}})", "f.json: unknown key \"gpu\" in \"tuned\""},
  };
  for (const auto& [text, message] : cases) {
    SCOPED_TRACE(text);
    EXPECT_THROW(
        {
          try {
            static_cast<void>(TunedConfig::parse(text, "f.json"));
          } catch (const Error& e) {
            EXPECT_THAT(e.what(), ::testing::StartsWith(message));
            EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "one line";
            throw;
          }
        },
        Error);
  }
}

TEST(TunedConfig, FilesThatAreNotOnesAreRefusedByName) {
  test::TempDir dir;
  EXPECT_THROW(
      {
        try {
          static_cast<void>(load_tuned_config(dir / "missing.json"));
        } catch (const Error& e) {
          EXPECT_THAT(e.what(), HasSubstr("missing.json"));
          throw;
        }
      },
      Error);
  EXPECT_THROW(static_cast<void>(load_tuned_config(dir.path())), Error);  // a folder
  EXPECT_THROW(static_cast<void>(load_tuned_config("/dev/zero")), Error);
}

}  // namespace
}  // namespace onnxpool
