// AES for the engine's Parquet encryption, by OpenSSL. Internal to src/engine.
//
// DuckDB encrypts Parquet files through an EncryptionUtil; its built-in one can
// decrypt but draws no secure random nonces (it expects the httpfs extension, which
// Tarn does not load). This one does AES-GCM and AES-CTR with OpenSSL's EVP
// interface and nonces from RAND_bytes; a wrong key or altered data fails the GCM
// tag check with an error that names neither key nor data.
#pragma once

#include <duckdb.hpp>
#include <duckdb/common/encryption_state.hpp>

namespace tarn::engine {

duckdb::shared_ptr<duckdb::EncryptionUtil> OpenSslEncryption();

}  // namespace tarn::engine
