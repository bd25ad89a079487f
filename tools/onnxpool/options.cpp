#include "options.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.hpp"
#include "onnxpool/pipeline/image_source.hpp"
#include "onnxpool/pool/tuned_config.hpp"

namespace onnxpool::cli {

CLI::Validator not_empty(std::string what) {
  return CLI::Validator(
      [what](const std::string& text) { return text.empty() ? fmt::format("empty: give {}", what) : std::string(); },
      "", "NOT_EMPTY");
}

namespace {

// A seed as the user means it: digits only, within 64 bits. (CLI11 would wrap "-1" and 2^64 around.)
CLI::Validator seed_range() {
  return CLI::Validator(
      [](const std::string& text) {
        std::uint64_t value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
          return fmt::format("'{}' is not a seed: give an integer from 0 to 18446744073709551615", text);
        }
        return std::string();
      },
      "", "SEED");
}

// Every --dim names a dim some input has (a typo would otherwise bind nothing, silently).
void check_dims_exist(const ModelInfo& model, const DimBindings& bindings) {
  const std::set<std::string> names = model.input_dim_names();
  for (const auto& [name, value] : bindings.by_name) {
    if (names.contains(name)) continue;
    const std::string known = names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
    throw UsageError(fmt::format("--dim {}={}: no input has a dim named '{}' (the inputs' named dims: {})", name, value,
                                 name, known));
  }
}

}  // namespace

void add_input_options(CLI::App& cmd, InputArgs& args) {
  cmd.add_option("--input", args.input_files, "Give input NAME from a .npy or .pb FILE (others random)")
      ->type_name("NAME=FILE");
  cmd.add_option("--data", args.data_files,
                 "Give input NAME from a .npy array whose first dim indexes the items (memory-mapped; one per "
                 "input; the others random)")
      ->type_name("NAME=FILE.npy");
  cmd.add_option("--inputs", args.inputs_dir,
                 "Folder of inputs: one ONNX test-data folder (input_K.pb or <input>.npy), or a folder of them "
                 "(test_data_set_0, test_data_set_1, ...): one item each")
      ->type_name("DIR");
  cmd.add_option("--list", args.list_file,
                 "A file listing the items, one path per line: a test-data folder, or a tensor file (.npy, .pb) "
                 "for a model of one input, or image files (.jpg, .jpeg, .png; then every entry), as --images")
      ->type_name("FILE");
  // Up to a billion: items are made as they are run (memory stays flat), so a soak of 10^7 is fine.
  cmd.add_option("--random", args.random, "Run N items of random inputs (default 1 unless --inputs)")
      ->type_name("N")
      ->check(CLI::Range(1, 1'000'000'000));
  cmd.add_option("--dim", args.dims, "Bind a symbolic dim by name (batch-like dims default to 1)")
      ->type_name("NAME=VALUE");
  cmd.add_option("--shape", args.shapes, "Give an input its whole shape")->type_name("INPUT:D0,D1,...");
  cmd.add_option("--seed", args.seed, "Seed of the random inputs (item i uses seed + i)")->check(seed_range());

  cmd.add_option("--images", args.images,
                 "JPEG/PNG files, or folders of them (*.jpg, *.jpeg, *.png in any case, not subfolders, in name "
                 "order): one item each, preprocessed for the model's image input")
      ->type_name("DIR|FILE...");
  cmd.add_option("--shorter-side", args.shorter_side,
                 "Images: resize so the shorter side is S, then center-crop to the input's HxW (default: "
                 "round(max(H,W)/0.875), 256 for 224)")
      ->type_name("S")
      ->check(CLI::Range(1, 65535));
  cmd.add_flag("--resize", args.plain_resize, "Images: resize straight to the input's HxW (no crop)");
  cmd.add_flag("--bgr", args.bgr, "Images: channels in BGR order (default RGB)");
  cmd.add_option("--mean", args.mean,
                 "Images, float inputs: the mean subtracted from pixel/255, per channel in RGB order (default "
                 "ImageNet's 0.485,0.456,0.406)")
      ->type_name("R,G,B");
  cmd.add_option("--std", args.std,
                 "Images, float inputs: the std pixel/255 - mean is divided by (default ImageNet's 0.229,0.224,0.225)")
      ->type_name("R,G,B");
}

namespace {

// Runs `make` (which makes items), adding to an unbound dim's error the flags that bind it.
template <class Make>
auto with_binding_hint(Make&& make) -> decltype(make()) {
  try {
    return make();
  } catch (const UnboundDimError& e) {
    if (e.dim().empty()) throw Error(fmt::format("{}; give the shape with --shape {}:...", e.what(), e.input()));
    throw Error(fmt::format("{}; use --dim {}=VALUE or --shape {}:...", e.what(), e.dim(), e.input()));
  }
}

// "0.5,0.5,0.5" -> three numbers.
std::array<float, 3> parse_triple(std::string_view text) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t comma = text.find(',', start);
    parts.push_back(text.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  std::array<float, 3> values{};
  bool ok = parts.size() == 3;
  for (std::size_t c = 0; ok && c < 3; ++c) {
    const std::string part(parts[c]);
    std::size_t end = 0;
    try {
      values[c] = std::stof(part, &end);
    } catch (const std::exception&) {
      end = 0;
    }
    ok = !part.empty() && end == part.size();
  }
  if (!ok) throw Error(fmt::format("'{}': expected three numbers R,G,B, e.g. 0.5,0.5,0.5", text));
  return values;
}

Preprocessing preprocessing(const InputArgs& args) {
  Preprocessing how;
  how.shorter_side = args.shorter_side;
  how.plain_resize = args.plain_resize;
  how.bgr = args.bgr;
  if (!args.mean.empty()) how.mean = with_flag("--mean", [&] { return parse_triple(args.mean); });
  if (!args.std.empty()) how.std = with_flag("--std", [&] { return parse_triple(args.std); });
  with_flag(args.std.empty() ? "--mean" : "--std", [&] { how.validate(); });
  if (how.plain_resize && how.shorter_side > 0) throw Error("--resize and --shorter-side cannot be combined");
  return how;
}

std::unique_ptr<Source> image_source(const ModelInfo& model, DimBindings bindings, std::vector<ImageEntry> images,
                                     const InputArgs& args) {
  std::vector<InputFile> files;
  for (const auto& text : args.input_files) {
    files.push_back(with_flag("--input", [&] { return InputFile::parse(text); }));
  }
  return std::make_unique<ImageSource>(model, std::move(bindings), std::move(images), preprocessing(args),
                                       std::move(files), args.seed);
}

// The source, before any hint is added to its errors.
std::unique_ptr<Source> source_from(const ModelInfo& model, const InputArgs& args) {
  DimBindings bindings;
  for (const auto& dim : args.dims) with_flag("--dim", [&] { bindings.bind_dim(dim); });
  for (const auto& shape : args.shapes) with_flag("--shape", [&] { bindings.bind_shape(shape); });
  for (const auto& [input, shape] : bindings.shape_of_input) static_cast<void>(model.input(input));
  check_dims_exist(model, bindings);

  // Images: --images, or a list whose entries are all image files (by extension).
  std::vector<std::filesystem::path> listed;
  if (!args.list_file.empty()) listed = read_path_list(args.list_file);
  const auto images_listed = std::count_if(listed.begin(), listed.end(), is_image_path);
  if (images_listed > 0 && static_cast<std::size_t>(images_listed) != listed.size()) {
    throw Error(fmt::format("--list {}: image files and other entries are mixed; list one kind", args.list_file));
  }
  if (!args.images.empty() || images_listed > 0) {
    if (!args.data_files.empty() || !args.inputs_dir.empty() || args.random > 0 ||
        (!args.images.empty() && !args.list_file.empty())) {
      throw Error("--images (or a --list of images) cannot be combined with --inputs, --list, --data or --random");
    }
    if (images_listed > 0) {
      std::vector<ImageEntry> entries;
      entries.reserve(listed.size());
      for (const auto& path : listed) entries.push_back({.path = path, .name = path.string()});
      return image_source(model, std::move(bindings), std::move(entries), args);
    }
    const std::vector<std::filesystem::path> paths(args.images.begin(), args.images.end());
    return image_source(model, std::move(bindings), with_flag("--images", [&] { return list_images(paths); }), args);
  }
  if (args.shorter_side > 0 || args.plain_resize || args.bgr || !args.mean.empty() || !args.std.empty()) {
    throw Error("--shorter-side, --resize, --bgr, --mean and --std apply to images (--images, or a --list of them)");
  }

  if (!args.inputs_dir.empty() || !args.list_file.empty()) {
    if (!args.input_files.empty() || !args.data_files.empty() || args.random > 0 ||
        (!args.inputs_dir.empty() && !args.list_file.empty())) {
      throw Error("--inputs and --list cannot be combined with each other, --input, --data or --random");
    }
    if (!args.list_file.empty()) return std::make_unique<DataSetSource>(model, std::move(listed));
    return std::make_unique<DataSetSource>(model, args.inputs_dir);
  }
  std::vector<InputFile> files;
  for (const auto& text : args.input_files) {
    files.push_back(with_flag("--input", [&] { return InputFile::parse(text); }));
  }
  if (!args.data_files.empty()) {
    if (args.random > 0) throw Error("--data gives the item count (its first dim): drop --random");
    std::vector<DataFile> arrays;
    for (const auto& text : args.data_files)
      arrays.push_back(with_flag("--data", [&] { return DataFile::parse(text); }));
    return std::make_unique<ArraySource>(model, std::move(bindings), arrays, std::move(files), args.seed);
  }
  const auto count = static_cast<std::size_t>(args.random > 0 ? args.random : 1);
  return std::make_unique<RandomSource>(model, std::move(bindings), std::move(files), args.seed, count);
}

}  // namespace

std::unique_ptr<Source> make_source(const ModelInfo& model, const InputArgs& args) {
  return with_binding_hint([&] { return source_from(model, args); });
}

void add_pool_options(CLI::App& cmd, PoolFlags& flags) {
  PoolConfig& config = flags.config;
  auto* workers =
      cmd.add_option("-w,--workers", config.workers, "CPU workers (sessions); default: automatic for this machine")
          ->check(CLI::Range(1, 1 << 20));
  flags.workers_option = workers;
  flags.threads_option =
      cmd.add_option("-t,--threads", config.threads, "Intra-op threads per CPU worker; default: cores / workers")
          ->check(CLI::Range(1, 1 << 20));
  flags.policy_option =
      cmd.add_option("--policy", flags.policy,
                     "static: items split round robin up front (the tutorial); dynamic: a free worker pulls the next")
          ->capture_default_str();
  cmd.add_option("--config", flags.config_file,
                 "Take workers, threads, batch and policy from FILE (saved by bench --grid --best --save-config) "
                 "where no flag gives them")
      ->type_name("FILE")
      ->check(not_empty("a file"));
  cmd.add_option("--devices", flags.devices,
                 "Workers by device: cpu, cpu:THREADS, cuda:ID, each optionally *COUNT, comma-separated "
                 "(e.g. cpu:2*2 or cpu,cuda:0)")
      ->type_name("SPEC[,SPEC...]")
      ->check(not_empty("at least one device (e.g. cpu)"))
      ->excludes(workers);
  flags.batch_option =
      cmd.add_option("-b,--batch", config.batch, "Items a worker stacks into one run (needs a symbolic batch dim)")
          ->capture_default_str()
          ->check(CLI::Range(1, 1 << 20));
  cmd.add_flag("--pin", config.pin, "Pin each CPU worker and its threads to its own cores");
  cmd.add_flag("--oversubscribe", config.oversubscribe,
               fmt::format("Start more threads than {} per core (refused otherwise: more than the machine can serve)",
                           kMaxThreadsPerCore));
  cmd.add_option("--spinning", flags.spinning, "Intra-op threads spin while idle (default: on for 1 worker, else off)")
      ->check(CLI::IsMember({"on", "off"}));
}

namespace {

bool given(const CLI::Option* option) {
  return option != nullptr && option->count() > 0;
}

}  // namespace

PoolConfig pool_config(const PoolFlags& flags, TunedConfig* read) {
  PoolConfig config = flags.config;
  config.policy = parse_policy(flags.policy);
  if (!flags.config_file.empty()) {
    const TunedConfig tuned = with_flag("--config", [&] { return load_tuned_config(flags.config_file); });
    if (read != nullptr) *read = tuned;
    // A flag given on the command line wins; a device list says the workers itself.
    if (!given(flags.workers_option) && flags.devices.empty()) config.workers = tuned.workers;
    if (!given(flags.threads_option) && flags.devices.empty()) config.threads = tuned.threads;
    if (!given(flags.batch_option)) config.batch = tuned.batch;
    if (!given(flags.policy_option)) config.policy = tuned.policy;
    const int cpus = CpuTopology::detect().usable_count();
    if (tuned.cpus > 0 && tuned.cpus != cpus) {
      fmt::print(stderr,
                 "onnxpool: note: --config {} was tuned on a machine of {} CPUs; this one has {}: bench --grid ... "
                 "--best --save-config tunes it here\n",
                 flags.config_file, tuned.cpus, cpus);
    }
  }
  if (!flags.devices.empty()) config.devices = parse_devices(flags.devices);
  if (!flags.spinning.empty()) config.spinning = flags.spinning == "on";
  config.validate();
  return config;
}

std::string pool_origin(const PoolFlags& flags, const TunedConfig& tuned) {
  std::vector<std::string> named;
  if (given(flags.workers_option)) named.push_back(fmt::format("--workers {}", flags.config.workers));
  if (given(flags.threads_option)) named.push_back(fmt::format("--threads {}", flags.config.threads));
  if (given(flags.batch_option)) named.push_back(fmt::format("--batch {}", flags.config.batch));
  if (!flags.devices.empty()) named.push_back("--devices " + flags.devices);
  std::string origin = named.empty() ? std::string() : fmt::format("as given ({})", fmt::join(named, " "));
  if (!flags.config_file.empty()) {
    const std::string measured = fmt::format(" (measured {:.2f} items/s on {} CPUs{})", tuned.items_per_s, tuned.cpus,
                                             tuned.by.empty() ? "" : " by " + tuned.by);
    origin += (origin.empty() ? "" : ", the rest ") + fmt::format("from --config {}{}", flags.config_file, measured);
  }
  return origin.empty() ? "automatic" : origin;
}

}  // namespace onnxpool::cli
