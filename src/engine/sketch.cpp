#include "engine/sketch.h"

#include <duckdb.hpp>
#include <duckdb/catalog/catalog.hpp>
#include <duckdb/common/types/hyperloglog.hpp>
#include <duckdb/function/aggregate_function.hpp>
#include <duckdb/parser/parsed_data/create_aggregate_function_info.hpp>
#include <duckdb/parser/parsed_data/create_scalar_function_info.hpp>

namespace tarn::engine {

namespace {

using duckdb::HyperLogLog;
using duckdb::idx_t;

struct SketchState {
  HyperLogLog hll;
};

// The registers of `blob` into `hll` (maximum with what it holds), after checking that
// it is a sketch: M registers, none beyond the largest value a 64-bit hash gives.
void MergeBlob(const duckdb::string_t& blob, HyperLogLog& hll, const char* function) {
  if (blob.GetSize() != HyperLogLog::M)
    throw duckdb::InvalidInputException("%s: the argument is not a distinct-count sketch (%d bytes, not %d)",
                                        function, blob.GetSize(), HyperLogLog::M);
  auto bytes = reinterpret_cast<const uint8_t*>(blob.GetData());
  for (idx_t i = 0; i < HyperLogLog::M; i++) {
    if (bytes[i] > HyperLogLog::Q + 1)
      throw duckdb::InvalidInputException("%s: the argument is not a distinct-count sketch", function);
    hll.Update(i, bytes[i]);
  }
}

struct SketchOp {
  template <class STATE>
  static void Initialize(STATE& state) {
    new (&state) STATE();
  }
  template <class STATE, class OP>
  static void Combine(const STATE& source, STATE& target, duckdb::AggregateInputData&) {
    target.hll.Merge(source.hll);
  }
  template <class T, class STATE>
  static void Finalize(STATE& state, T& target, duckdb::AggregateFinalizeData& data) {
    uint8_t bytes[HyperLogLog::M];
    for (idx_t i = 0; i < HyperLogLog::M; i++) bytes[i] = state.hll.GetRegister(i);
    target = duckdb::StringVector::AddStringOrBlob(data.result, reinterpret_cast<const char*>(bytes),
                                                   HyperLogLog::M);
  }
  static bool IgnoreNull() { return true; }
};

// Calls `add(state, row)` for each row whose input is not NULL; `state_of(i)` gives
// row i's state.
template <class ADD, class STATE_OF>
void EachValid(duckdb::Vector& input, idx_t count, STATE_OF state_of, ADD add) {
  duckdb::UnifiedVectorFormat in;
  input.ToUnifiedFormat(count, in);
  for (idx_t i = 0; i < count; i++) {
    idx_t row = in.sel->get_index(i);
    if (in.validity.RowIsValid(row)) add(*state_of(i), in, row, i);
  }
}

// Sketch: values are hashed as approx_count_distinct hashes them.
template <class STATE_OF>
void AddValues(duckdb::Vector& input, idx_t count, STATE_OF state_of) {
  duckdb::Vector hashes(duckdb::LogicalType::HASH, count);
  duckdb::VectorOperations::Hash(input, hashes, count);
  duckdb::UnifiedVectorFormat h;
  hashes.ToUnifiedFormat(count, h);
  auto hash = duckdb::UnifiedVectorFormat::GetData<duckdb::hash_t>(h);
  EachValid(input, count, state_of, [&](SketchState& s, const duckdb::UnifiedVectorFormat&, idx_t, idx_t i) {
    s.hll.InsertElement(hash[h.sel->get_index(i)]);
  });
}

template <class STATE_OF>
void AddSketches(duckdb::Vector& input, idx_t count, STATE_OF state_of) {
  EachValid(input, count, state_of,
            [](SketchState& s, const duckdb::UnifiedVectorFormat& in, idx_t row, idx_t) {
              MergeBlob(duckdb::UnifiedVectorFormat::GetData<duckdb::string_t>(in)[row], s.hll,
                        kSketchMergeFunction);
            });
}

// DuckDB's two update entry points (grouped: a state per row; ungrouped: one state),
// adding values (or, SKETCHES, sketches) to the states.
template <bool SKETCHES>
struct Updates {
  template <class STATE_OF>
  static void Add(duckdb::Vector& input, idx_t count, STATE_OF state_of) {
    if constexpr (SKETCHES)
      AddSketches(input, count, state_of);
    else
      AddValues(input, count, state_of);
  }
  static void Grouped(duckdb::Vector inputs[], duckdb::AggregateInputData&, idx_t, duckdb::Vector& states,
                      idx_t count) {
    duckdb::UnifiedVectorFormat s;
    states.ToUnifiedFormat(count, s);
    auto all = duckdb::UnifiedVectorFormat::GetDataNoConst<SketchState*>(s);
    Add(inputs[0], count, [&](idx_t i) { return all[s.sel->get_index(i)]; });
  }
  static void Simple(duckdb::Vector inputs[], duckdb::AggregateInputData&, idx_t, duckdb::data_ptr_t state,
                     idx_t count) {
    auto one = reinterpret_cast<SketchState*>(state);
    Add(inputs[0], count, [one](idx_t) { return one; });
  }
};

template <bool SKETCHES>
duckdb::AggregateFunction SketchAggregate(const char* name, const duckdb::LogicalType& input) {
  duckdb::AggregateFunction f(
      name, {input}, duckdb::LogicalType::BLOB, duckdb::AggregateFunction::StateSize<SketchState>,
      duckdb::AggregateFunction::StateInitialize<SketchState, SketchOp>, Updates<SKETCHES>::Grouped,
      duckdb::AggregateFunction::StateCombine<SketchState, SketchOp>,
      duckdb::AggregateFunction::StateFinalize<SketchState, duckdb::string_t, SketchOp>,
      duckdb::FunctionNullHandling::SPECIAL_HANDLING, Updates<SKETCHES>::Simple);
  return f;
}

void CountSketch(duckdb::DataChunk& args, duckdb::ExpressionState&, duckdb::Vector& result) {
  duckdb::UnaryExecutor::Execute<duckdb::string_t, int64_t>(args.data[0], result, args.size(),
                                                            [](duckdb::string_t blob) {
                                                              HyperLogLog hll;
                                                              MergeBlob(blob, hll, kSketchCountFunction);
                                                              return static_cast<int64_t>(hll.Count());
                                                            });
}

}  // namespace

void RegisterSketchFunctions(duckdb::DatabaseInstance& db) {
  auto& catalog = duckdb::Catalog::GetSystemCatalog(db);
  auto transaction = duckdb::CatalogTransaction::GetSystemTransaction(db);
  {
    duckdb::AggregateFunctionSet set(kSketchFunction);
    set.AddFunction(SketchAggregate<false>(kSketchFunction, duckdb::LogicalType::ANY));
    duckdb::CreateAggregateFunctionInfo info(std::move(set));
    catalog.CreateFunction(transaction, info);
  }
  {
    duckdb::AggregateFunctionSet set(kSketchMergeFunction);
    set.AddFunction(SketchAggregate<true>(kSketchMergeFunction, duckdb::LogicalType::BLOB));
    duckdb::CreateAggregateFunctionInfo info(std::move(set));
    catalog.CreateFunction(transaction, info);
  }
  duckdb::ScalarFunction count(kSketchCountFunction, {duckdb::LogicalType::BLOB}, duckdb::LogicalType::BIGINT,
                               CountSketch);
  duckdb::CreateScalarFunctionInfo info(std::move(count));
  catalog.CreateFunction(transaction, info);
}

}  // namespace tarn::engine
