// FreeWith<F>: a std::unique_ptr deleter that calls a C library's free function F
// (OpenSSL's EVP_PKEY_free, X509_free, ...), for RAII over C handles.
//
//   using X509Ptr = std::unique_ptr<X509, FreeWith<X509_free>>;
#pragma once

namespace tarn {

template <auto F>
struct FreeWith {
  template <typename T>
  void operator()(T* p) const {
    F(p);
  }
};

}  // namespace tarn
