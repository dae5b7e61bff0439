#include "engine/openssl_crypto.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

namespace tarn::engine {

namespace {

using duckdb::EncryptionTypes;

class AesState : public duckdb::EncryptionState {
 public:
  AesState(EncryptionTypes::CipherType cipher, duckdb::idx_t key_len)
      : EncryptionState(cipher, key_len), ctx_(EVP_CIPHER_CTX_new()) {
    if (!ctx_) throw duckdb::InternalException("cannot allocate an AES context");
  }
  ~AesState() override { EVP_CIPHER_CTX_free(ctx_); }
  AesState(const AesState&) = delete;
  AesState& operator=(const AesState&) = delete;

  void InitializeEncryption(duckdb::const_data_ptr_t iv, duckdb::idx_t iv_len, duckdb::const_data_ptr_t key,
                            duckdb::idx_t key_len, duckdb::const_data_ptr_t aad,
                            duckdb::idx_t aad_len) override {
    Init(true, iv, iv_len, key, key_len, aad, aad_len);
  }
  void InitializeDecryption(duckdb::const_data_ptr_t iv, duckdb::idx_t iv_len, duckdb::const_data_ptr_t key,
                            duckdb::idx_t key_len, duckdb::const_data_ptr_t aad,
                            duckdb::idx_t aad_len) override {
    Init(false, iv, iv_len, key, key_len, aad, aad_len);
  }

  size_t Process(duckdb::const_data_ptr_t in, duckdb::idx_t in_len, duckdb::data_ptr_t out,
                 duckdb::idx_t out_len) override {
    if (out_len < in_len) throw duckdb::InternalException("AES output buffer too small");
    int n = 0;
    int ok = encrypt_ ? EVP_EncryptUpdate(ctx_, out, &n, in, static_cast<int>(in_len))
                      : EVP_DecryptUpdate(ctx_, out, &n, in, static_cast<int>(in_len));
    if (ok != 1) throw duckdb::InvalidInputException("AES failed on the data");
    return static_cast<size_t>(n);
  }

  size_t Finalize(duckdb::data_ptr_t, duckdb::idx_t out_len, duckdb::data_ptr_t tag,
                  duckdb::idx_t tag_len) override {
    unsigned char rest[EVP_MAX_BLOCK_LENGTH];  // GCM and CTR leave nothing to flush
    int n = 0;
    bool gcm = cipher == EncryptionTypes::GCM;
    if (encrypt_) {
      if (EVP_EncryptFinal_ex(ctx_, rest, &n) != 1 ||
          (gcm && EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_len), tag) != 1)) {
        throw duckdb::InvalidInputException("AES could not finish encrypting");
      }
    } else {
      if ((gcm && EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag_len), tag) != 1) ||
          EVP_DecryptFinal_ex(ctx_, rest, &n) <= 0) {
        throw duckdb::InvalidInputException(
            "the data does not decrypt: wrong key, or the file was altered (AES tag mismatch)");
      }
    }
    return out_len;
  }

  void GenerateRandomData(duckdb::data_ptr_t data, duckdb::idx_t len) override {
    if (RAND_bytes(data, static_cast<int>(len)) != 1) throw duckdb::InternalException("RAND_bytes failed");
  }

 private:
  void Init(bool encrypt, duckdb::const_data_ptr_t iv, duckdb::idx_t iv_len, duckdb::const_data_ptr_t key,
            duckdb::idx_t key_len, duckdb::const_data_ptr_t aad, duckdb::idx_t aad_len) {
    encrypt_ = encrypt;
    const EVP_CIPHER* c = nullptr;
    bool gcm = cipher == EncryptionTypes::GCM;
    if (cipher != EncryptionTypes::GCM && cipher != EncryptionTypes::CTR)
      throw duckdb::NotImplementedException("only AES-GCM and AES-CTR are available");
    switch (key_len) {
      case 16: c = gcm ? EVP_aes_128_gcm() : EVP_aes_128_ctr(); break;
      case 24: c = gcm ? EVP_aes_192_gcm() : EVP_aes_192_ctr(); break;
      case 32: c = gcm ? EVP_aes_256_gcm() : EVP_aes_256_ctr(); break;
      default: throw duckdb::InvalidInputException("an AES key has 16, 24 or 32 bytes");
    }
    auto init = encrypt ? EVP_EncryptInit_ex : EVP_DecryptInit_ex;
    bool ok = init(ctx_, c, nullptr, nullptr, nullptr) == 1;
    if (ok && gcm)
      ok = EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv_len), nullptr) == 1;
    ok = ok && init(ctx_, nullptr, nullptr, key, iv) == 1;
    if (ok && aad && aad_len > 0) {
      int n = 0;
      ok = (encrypt ? EVP_EncryptUpdate(ctx_, nullptr, &n, aad, static_cast<int>(aad_len))
                    : EVP_DecryptUpdate(ctx_, nullptr, &n, aad, static_cast<int>(aad_len))) == 1;
    }
    if (!ok) throw duckdb::InvalidInputException("AES could not start");
  }

  EVP_CIPHER_CTX* ctx_;
  bool encrypt_ = true;
};

class OpenSslUtil : public duckdb::EncryptionUtil {
 public:
  duckdb::shared_ptr<duckdb::EncryptionState> CreateEncryptionState(EncryptionTypes::CipherType cipher,
                                                                    duckdb::idx_t key_len) const override {
    return duckdb::make_shared_ptr<AesState>(cipher, key_len);
  }
};

}  // namespace

duckdb::shared_ptr<duckdb::EncryptionUtil> OpenSslEncryption() {
  return duckdb::make_shared_ptr<OpenSslUtil>();
}

}  // namespace tarn::engine
