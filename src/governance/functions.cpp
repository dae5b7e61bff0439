// The classification of every function DuckDB registers (see functions.h). Names
// are listed explicitly, grouped by the reason they are allowed or denied; the
// lists are checked against duckdb_functions() by tests/governance/functions_test.
#include "governance/functions.h"
#include "common/util.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <sstream>
#include <utility>

namespace tarn::governance {

namespace {

std::vector<std::string> Split(const char* names) {
  std::vector<std::string> out;
  std::istringstream in(names);
  for (std::string n; in >> n;) out.push_back(n);
  return out;
}

using K = FunctionKind;
using U = FunctionUse;

std::vector<FunctionGroup> MakeGroups() {
  std::vector<FunctionGroup> g;
  auto add = [&](K kind, U use, const char* reason, const char* names, bool registered = true) {
    g.push_back({kind, use, reason, registered, Split(names)});
  };
  add(K::kExpression, U::kAllowed,
      "Scalar functions and operators that compute only from their arguments: arithmetic, text, "
      "dates and times, lists, maps, structs, JSON values, hashes, random values",
      R"(
    !__postfix !~~ !~~* % & && * ** + - ->> / // <-> << <=> <@ >> @ @> ^ ^@ abs acos acosh add age
    aggregate apply array_aggr array_aggregate array_append array_apply array_cat array_concat
    array_contains array_cosine_distance array_cosine_similarity array_cross_product array_distance
    array_distinct array_dot_product array_extract array_filter array_grade_up array_has array_has_all
    array_has_any array_indexof array_inner_product array_intersect array_length array_negative_dot_product
    array_negative_inner_product array_pop_back array_pop_front array_position array_prepend
    array_push_back array_push_front array_reduce array_resize array_reverse array_reverse_sort
    array_select array_slice array_sort array_to_json array_to_string array_to_string_comma_default
    array_transform array_unique array_value array_where array_zip ascii asin asinh atan atan2 atanh bar
    base64 bin bit_count bit_length bit_position bitstring can_cast_implicitly cardinality cast_to_type
    cbrt ceil ceiling century char_length character_length chr concat concat_ws contains cos cosh cot
    current_date current_localtime current_localtimestamp current_user damerau_levenshtein date_add
    date_diff date_part date_sub date_trunc datediff datepart datesub datetrunc day dayname dayofmonth
    dayofweek dayofyear decade decode degrees divide editdist3 element_at encode ends_with enum_code
    enum_first enum_last enum_range enum_range_boundary epoch epoch_ms epoch_ns epoch_us equi_width_bins
    era error even exp factorial fdiv filter flatten floor fmod format formatReadableDecimalSize
    formatReadableSize format_bytes from_base64 from_binary from_hex from_json from_json_strict gamma gcd
    gen_random_uuid generate_series generate_subscripts geomean geometric_mean get_bit get_current_time
    get_current_timestamp grade_up greatest greatest_common_divisor hamming hash hex hour icu_sort_key
    ilike_escape instr is_histogram_other_bin isfinite isinf isnan isodow isoyear jaccard jaro_similarity
    jaro_winkler_similarity json json_array json_array_length json_contains json_exists json_extract
    json_extract_path json_extract_path_text json_extract_string json_group_array json_group_object
    json_group_structure json_keys json_merge_patch json_object json_pretty json_quote json_structure
    json_transform json_transform_strict json_type json_valid json_value julian last_day lcase lcm least
    least_common_multiple left left_grapheme len length length_grapheme levenshtein lgamma like_escape
    list_aggr list_aggregate list_any_value list_append list_apply list_approx_count_distinct list_avg
    list_bit_and list_bit_or list_bit_xor list_bool_and list_bool_or list_cat list_concat list_contains
    list_cosine_distance list_cosine_similarity list_count list_distance list_distinct list_dot_product
    list_element list_entropy list_extract list_filter list_first list_grade_up list_has list_has_all
    list_has_any list_histogram list_indexof list_inner_product list_intersect list_kurtosis
    list_kurtosis_pop list_last list_mad list_max list_median list_min list_mode list_negative_dot_product
    list_negative_inner_product list_pack list_position list_prepend list_product list_reduce list_resize
    list_reverse list_reverse_sort list_select list_sem list_skewness list_slice list_sort list_stddev_pop
    list_stddev_samp list_string_agg list_sum list_transform list_unique list_value list_var_pop
    list_var_samp list_where list_zip ln log log10 log2 lower lpad ltrim make_date make_time make_timestamp
    make_timestamp_ms make_timestamp_ns make_timestamptz map map_concat map_contains map_contains_entry
    map_contains_value map_entries map_extract map_extract_value map_from_entries map_keys map_values md5
    md5_number md5_number_lower md5_number_upper microsecond millennium millisecond minute mismatches mod
    month monthname multiply nanosecond nextafter nfc_normalize normalized_interval not_ilike_escape
    not_like_escape now nullif octet_length ord parse_dirname parse_dirpath parse_filename parse_path pi
    position pow power prefix printf quarter radians random range reduce regexp_escape regexp_extract
    regexp_extract_all regexp_full_match regexp_matches regexp_replace regexp_split_to_array
    regexp_split_to_table remap_struct repeat replace replace_type reverse right right_grapheme round
    round_even roundbankers row row_to_json rpad rtrim second set_bit sha1 sha256 sign signbit sin sinh
    split split_part sqrt starts_with str_split str_split_regex strftime string_split string_split_regex
    string_to_array strip_accents strlen strpos strptime struct_concat struct_contains struct_extract
    struct_extract_at struct_has struct_indexof struct_insert struct_pack struct_position struct_update
    substr substring substring_grapheme subtract suffix tan tanh time_bucket timetz_byte_comparable
    timezone timezone_hour timezone_minute to_base to_base64 to_binary to_centuries to_days to_decades
    to_hex to_hours to_json to_microseconds to_millennia to_milliseconds to_minutes to_months to_quarters
    to_seconds to_timestamp to_weeks to_years today transaction_timestamp translate trim trunc try_strptime
    typeof ucase unbin unhex unicode union_extract union_tag union_value upper url_decode url_encode uuid
    uuid_extract_timestamp uuid_extract_version uuidv4 uuidv7 variant_extract variant_typeof wavg week
    weekday weekofyear weighted_avg xor year yearweek | || ~ ~~ ~~* ~~~    )");
  add(K::kExpression, U::kAllowed, "Collations (what COLLATE binds to)", R"(
    icu_collate_af icu_collate_am icu_collate_ar icu_collate_ar_sa icu_collate_as icu_collate_az
    icu_collate_be icu_collate_bg icu_collate_bn icu_collate_bo icu_collate_br icu_collate_bs
    icu_collate_ca icu_collate_ceb icu_collate_chr icu_collate_cs icu_collate_cy icu_collate_da
    icu_collate_de icu_collate_de_at icu_collate_dsb icu_collate_dz icu_collate_ee icu_collate_el
    icu_collate_en icu_collate_en_us icu_collate_eo icu_collate_es icu_collate_et icu_collate_fa
    icu_collate_fa_af icu_collate_ff icu_collate_fi icu_collate_fil icu_collate_fo icu_collate_fr
    icu_collate_fr_ca icu_collate_fy icu_collate_ga icu_collate_gl icu_collate_gu icu_collate_ha
    icu_collate_haw icu_collate_he icu_collate_he_il icu_collate_hi icu_collate_hr icu_collate_hsb
    icu_collate_hu icu_collate_hy icu_collate_id icu_collate_id_id icu_collate_ig icu_collate_is
    icu_collate_it icu_collate_ja icu_collate_ka icu_collate_kk icu_collate_kl icu_collate_km
    icu_collate_kn icu_collate_ko icu_collate_kok icu_collate_ku icu_collate_ky icu_collate_lb
    icu_collate_lkt icu_collate_ln icu_collate_lo icu_collate_lt icu_collate_lv icu_collate_mk
    icu_collate_ml icu_collate_mn icu_collate_mr icu_collate_ms icu_collate_mt icu_collate_my
    icu_collate_nb icu_collate_nb_no icu_collate_ne icu_collate_nl icu_collate_nn icu_collate_noaccent
    icu_collate_om icu_collate_or icu_collate_pa icu_collate_pa_in icu_collate_pl icu_collate_ps
    icu_collate_pt icu_collate_ro icu_collate_ru icu_collate_sa icu_collate_se icu_collate_si
    icu_collate_sk icu_collate_sl icu_collate_smn icu_collate_sq icu_collate_sr icu_collate_sr_ba
    icu_collate_sr_me icu_collate_sr_rs icu_collate_sv icu_collate_sw icu_collate_ta icu_collate_te
    icu_collate_th icu_collate_tk icu_collate_to icu_collate_tr icu_collate_ug icu_collate_uk
    icu_collate_ur icu_collate_uz icu_collate_vi icu_collate_wae icu_collate_wo icu_collate_xh
    icu_collate_yi icu_collate_yo icu_collate_yue icu_collate_yue_cn icu_collate_zh icu_collate_zh_cn
    icu_collate_zh_hk icu_collate_zh_mo icu_collate_zh_sg icu_collate_zh_tw icu_collate_zu    )");
  add(K::kExpression, U::kAllowed, "Aggregates", R"(
    any_value approx_count_distinct approx_quantile approx_top_k arbitrary arg_max arg_max_null arg_min
    arg_min_null argmax argmin array_agg avg bit_and bit_or bit_xor bitstring_agg bool_and bool_or corr
    count count_if count_star countif covar_pop covar_samp entropy favg first fsum group_concat histogram
    histogram_exact kahan_sum kurtosis kurtosis_pop last list listagg mad max max_by mean median min min_by
    mode product quantile quantile_cont quantile_disc regr_avgx regr_avgy regr_count regr_intercept regr_r2
    regr_slope regr_sxx regr_sxy regr_syy reservoir_quantile sem skewness stddev stddev_pop stddev_samp
    string_agg sum sum_no_overflow sumkahan var_pop var_samp variance    )");
  add(K::kExpression, U::kAllowed,
      "Tarn's distinct-count sketches: approx_count_distinct's state as a value, merged and counted "
      "(src/engine/sketch.h)",
      "tarn_distinct_sketch tarn_distinct_sketch_merge tarn_distinct_sketch_count");
  add(K::kExpression, U::kAllowed, "Window functions and expressions the parser handles itself",
      "row_number rank dense_rank rank_dense percent_rank cume_dist ntile lag lead first_value "
      "last_value nth_value unnest unlist",
      false);
  add(K::kExpression, U::kPlanOnly,
      "Added by DuckDB's binder and optimizer (compressed materialization, sort keys, UNPIVOT); "
      "users may not call them",
      R"(
    __internal_compress_integral_ubigint __internal_compress_integral_uinteger
    __internal_compress_integral_usmallint __internal_compress_integral_utinyint
    __internal_compress_string_hugeint __internal_compress_string_ubigint
    __internal_compress_string_uhugeint __internal_compress_string_uinteger
    __internal_compress_string_usmallint __internal_compress_string_utinyint
    __internal_decompress_integral_bigint __internal_decompress_integral_hugeint
    __internal_decompress_integral_integer __internal_decompress_integral_smallint
    __internal_decompress_integral_ubigint __internal_decompress_integral_uhugeint
    __internal_decompress_integral_uinteger __internal_decompress_integral_usmallint
    __internal_decompress_string constant_or_null create_sort_key unpivot_list    )");
  add(K::kExpression, U::kDenied, "Read or change settings, variables, sequences or the random seed",
      "current_setting getvariable nextval currval setseed");
  add(K::kExpression, U::kDenied, "Parse, bind, serialize or run SQL and plans given as text",
      "json_serialize_sql json_deserialize_sql json_serialize_plan");
  add(K::kExpression, U::kDenied,
      "Expose the engine: its catalog, connections, transactions, version, logs, statistics and "
      "aggregate states",
      "current_connection_id current_query_id current_transaction_id txid_current current_database "
      "current_catalog current_schema current_schemas current_query in_search_path version stats "
      "vector_type write_log parse_duckdb_log_message finalize combine alias current_role session_user "
      "user");
  add(K::kExpression, U::kDenied,
      "PostgreSQL catalog compatibility: answers about DuckDB's own catalog or fixed placeholders, "
      "never about Tarn's grants",
      R"(
    col_description format_pg_type format_type get_block_size has_any_column_privilege has_column_privilege
    has_database_privilege has_foreign_data_wrapper_privilege has_function_privilege has_language_privilege
    has_schema_privilege has_sequence_privilege has_server_privilege has_table_privilege
    has_tablespace_privilege inet_client_addr inet_client_port inet_server_addr inet_server_port
    map_to_pg_oid obj_description pg_collation_is_visible pg_conf_load_time pg_conversion_is_visible
    pg_function_is_visible pg_get_constraintdef pg_get_expr pg_get_viewdef pg_has_role
    pg_is_other_temp_schema pg_my_temp_schema pg_opclass_is_visible pg_operator_is_visible
    pg_opfamily_is_visible pg_postmaster_start_time pg_size_pretty pg_table_is_visible
    pg_ts_config_is_visible pg_ts_dict_is_visible pg_ts_parser_is_visible pg_ts_template_is_visible
    pg_type_is_visible pg_typeof shobj_description
    )");
  add(K::kExpression, U::kDenied,
      "Tarn's own mark for guarded cells: Tarn adds it to governed scans and removes it before the "
      "plan runs",
      "__tarn_guard");
  add(K::kTable, U::kAllowed, "Generate rows from their arguments only",
      "range generate_series unnest json_each json_tree");
  add(K::kTable, U::kPlanOnly,
      "File readers: only in the scans Tarn builds for catalog tables, and the plan check "
      "verifies they read exactly those tables' files",
      "read_parquet parquet_scan read_csv read_csv_auto read_json read_json_auto read_ndjson "
      "read_ndjson_auto");
  add(K::kTable, U::kDenied, "Read or list files, or their metadata, directly",
      "read_blob read_text read_json_objects read_json_objects_auto read_ndjson_objects glob sniff_csv "
      "parquet_bloom_probe parquet_file_metadata parquet_kv_metadata parquet_metadata parquet_schema "
      "arrow_scan arrow_scan_dumb seq_scan summary");
  add(K::kTable, U::kDenied, "Run or inspect SQL given as text",
      "query query_table json_execute_serialized_sql sql_auto_complete check_peg_parser");
  add(K::kTable, U::kDenied,
      "The engine's own catalog, settings, secrets, logs, storage and test data (Tarn serves "
      "information_schema and SHOW statements instead)",
      R"(
    duckdb_approx_database_count duckdb_columns duckdb_connection_count duckdb_constraints duckdb_databases
    duckdb_dependencies duckdb_extensions duckdb_external_file_cache duckdb_functions duckdb_indexes
    duckdb_keywords duckdb_log_contexts duckdb_logs duckdb_memory duckdb_optimizers
    duckdb_prepared_statements duckdb_schemas duckdb_secret_types duckdb_secrets duckdb_sequences
    duckdb_settings duckdb_table_sample duckdb_tables duckdb_temporary_files duckdb_types duckdb_variables
    duckdb_views pragma_collations pragma_database_size pragma_metadata_info pragma_platform pragma_show
    pragma_storage_info pragma_table_info pragma_user_agent pragma_version
    checkpoint force_checkpoint enable_logging disable_logging truncate_duckdb_logs which_secret
    test_all_types test_vector_types icu_calendar_names pg_timezone_names repeat repeat_row
    duckdb_logs_parsed histogram histogram_values
    )");
  add(K::kPragma, U::kDenied, "PRAGMA statements change or expose the engine: none is available", R"(
    add_parquet_key all_profiling_output collations copy_database database_list database_size
    disable_checkpoint_on_shutdown disable_object_cache disable_optimizer disable_print_progress_bar
    disable_profile disable_profiling disable_progress_bar disable_verification disable_verify_external
    disable_verify_fetch_row disable_verify_parallelism disable_verify_serializer
    enable_checkpoint_on_shutdown enable_object_cache enable_optimizer enable_print_progress_bar
    enable_profile enable_profiling enable_progress_bar enable_verification extension_versions
    force_checkpoint functions import_database json_execute_serialized_sql metadata_info platform show
    show_databases show_tables show_tables_expanded storage_info table_info user_agent verify_external
    verify_fetch_row verify_parallelism verify_serializer version    )");
  return g;
}

using Index = std::map<std::pair<FunctionKind, std::string>, FunctionUse>;

const Index& TheIndex() {
  static const Index index = [] {
    Index out;
    for (auto& group : FunctionGroups()) {
      for (auto& n : group.names) out.emplace(std::make_pair(group.kind, n), group.use);
    }
    return out;
  }();
  return index;
}

const char* UseName(FunctionUse use) {
  switch (use) {
    case FunctionUse::kAllowed: return "allowed";
    case FunctionUse::kPlanOnly: return "engine only";
    case FunctionUse::kDenied: return "denied";
  }
  return "denied";
}

const char* KindName(FunctionKind kind) {
  switch (kind) {
    case FunctionKind::kExpression: return "Functions in expressions";
    case FunctionKind::kTable: return "Table functions (in FROM)";
    case FunctionKind::kPragma: return "PRAGMA";
  }
  return "";
}

}  // namespace

const std::vector<FunctionGroup>& FunctionGroups() {
  static const std::vector<FunctionGroup> groups = MakeGroups();
  return groups;
}

FunctionUse Classify(FunctionKind kind, const std::string& name) {
  auto& index = TheIndex();
  auto it = index.find({kind, name});
  if (it == index.end()) it = index.find({kind, AsciiLower(name)});
  return it == index.end() ? FunctionUse::kDenied : it->second;
}

bool TakesAggregateName(const std::string& name) {
  static const std::vector<std::string> kNames = {"aggregate", "array_aggr", "array_aggregate", "list_aggr",
                                                  "list_aggregate"};
  std::string n = AsciiLower(name);
  for (auto& k : kNames) {
    if (n == k) return true;
  }
  return false;
}

std::string NotAvailable(const std::string& name) {
  std::string shown = name.size() > 64 ? name.substr(0, 64) + "..." : name;
  return fmt::format("function {} is not available", shown);
}

std::string FunctionsJson() {
  std::string out;
  for (auto& g : FunctionGroups()) {
    nlohmann::json j = {{"kind", g.kind == FunctionKind::kExpression ? "expression"
                                 : g.kind == FunctionKind::kTable    ? "table"
                                                                     : "pragma"},
                        {"use", UseName(g.use)},
                        {"reason", g.reason},
                        {"names", g.names}};
    if (!out.empty()) out += '\n';
    out += j.dump();
  }
  return out;
}

std::string FunctionsMarkdown() {
  std::string out =
      "# Functions a query may call\n\n"
      "Generated from `src/governance/functions.cpp` by `tarn functions`; a test fails when "
      "this page and the code differ, and another when DuckDB registers a function the list does not "
      "classify. Anything not listed is denied: `access denied: function X is not available`.\n";
  std::optional<FunctionKind> kind;
  for (auto& g : FunctionGroups()) {
    if (kind != g.kind) {
      kind = g.kind;
      out += fmt::format("\n## {}\n", KindName(g.kind));
    }
    out += fmt::format("\n### {}: {}\n\n", UseName(g.use), g.reason);
    std::string line;
    for (auto& n : g.names) {
      std::string item = "`" + n + "`";
      if (!line.empty() && line.size() + item.size() + 1 > 100) {
        out += line + "\n";
        line.clear();
      }
      if (!line.empty()) line += ' ';
      line += item;
    }
    if (!line.empty()) out += line + "\n";
  }
  return out;
}

}  // namespace tarn::governance
