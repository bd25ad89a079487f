#include "options.hpp"

#include <fmt/format.h>

namespace onnxpool::cli {

void add_input_options(CLI::App& cmd, InputArgs& args) {
  cmd.add_option("--input", args.input_files, "Give input NAME from a .npy or .pb FILE (others random)")
      ->type_name("NAME=FILE");
  cmd.add_option("--inputs", args.inputs_dir,
                 "Folder of inputs: one ONNX test-data folder (input_K.pb or <input>.npy), or a folder of them "
                 "(test_data_set_0, test_data_set_1, ...): one item each")
      ->type_name("DIR");
  cmd.add_option("--random", args.random, "Run N items of random inputs (default 1 unless --inputs)")
      ->type_name("N")
      ->check(CLI::Range(1, 1 << 20));
  cmd.add_option("--dim", args.dims, "Bind a symbolic dim by name (batch-like dims default to 1)")
      ->type_name("NAME=VALUE");
  cmd.add_option("--shape", args.shapes, "Give an input its whole shape")->type_name("INPUT:D0,D1,...");
  cmd.add_option("--seed", args.seed, "Seed of the random inputs (item i uses seed + i)");
}

Items make_items(const ModelInfo& model, const InputArgs& args) {
  DimBindings bindings;
  for (const auto& dim : args.dims) bindings.bind_dim(dim);
  for (const auto& shape : args.shapes) bindings.bind_shape(shape);
  for (const auto& [input, shape] : bindings.shape_of_input) static_cast<void>(model.input(input));

  Items items;
  if (!args.inputs_dir.empty()) {
    if (!args.input_files.empty() || args.random > 0)
      throw Error("--inputs cannot be combined with --input or --random");
    for (auto& set : load_data_sets(model, args.inputs_dir)) {
      items.inputs.push_back(std::move(set.inputs));
      items.names.push_back(set.name);
      items.expected.push_back(std::move(set.expected));
    }
    return items;
  }
  std::vector<InputFile> files;
  for (const auto& text : args.input_files) files.push_back(InputFile::parse(text));
  const int count = args.random > 0 ? args.random : 1;
  for (int i = 0; i < count; ++i) {
    items.inputs.push_back(inputs_from_files(model, files, bindings, args.seed + static_cast<std::uint64_t>(i)));
    items.names.emplace_back();
  }
  return items;
}

void add_pool_options(CLI::App& cmd, PoolArgs& args) {
  cmd.add_option("-w,--workers", args.workers, "CPU workers (sessions); default: automatic for this machine")
      ->check(CLI::Range(1, 1 << 20));
  cmd.add_option("-t,--threads", args.threads, "Intra-op threads per CPU worker; default: cores / workers")
      ->check(CLI::Range(1, 1 << 20));
  cmd.add_option("--policy", args.policy,
                 "static: items split round robin up front (the tutorial); dynamic: a free worker pulls the next")
      ->capture_default_str();
  cmd.add_option("--devices", args.devices,
                 "Workers by device: cpu, cpu:THREADS, cuda:ID, each optionally *COUNT, comma-separated "
                 "(e.g. cpu:2*2 or cpu,cuda:0)")
      ->type_name("SPEC[,SPEC...]");
  cmd.add_option("-b,--batch", args.batch, "Items a worker stacks into one run (needs a symbolic batch dim)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  cmd.add_flag("--pin", args.pin, "Pin each CPU worker and its threads to its own cores");
  cmd.add_option("--spinning", args.spinning, "Intra-op threads spin while idle (default: on for 1 worker, else off)")
      ->check(CLI::IsMember({"on", "off"}));
}

PoolOptions to_pool_options(const PoolArgs& args) {
  PoolOptions options;
  options.workers = args.workers;
  options.threads = args.threads;
  options.policy = parse_policy(args.policy);
  if (!args.devices.empty()) {
    if (args.workers > 0) throw Error("--devices and --workers cannot be combined (use cpu*W in --devices)");
    options.devices = parse_devices(args.devices);
  }
  options.batch = args.batch;
  options.pin = args.pin;
  if (!args.spinning.empty()) options.spinning = args.spinning == "on";
  return options;
}

}  // namespace onnxpool::cli
