"""gen for the Mbed TLS 4.x line (Mbed TLS 4.0 + TF-PSA-Crypto 1.0): two configuration files.

    plan = generate_pair(docs, GenOptions(line="4.0"), names)   # PairPlan, or Refusal
    plan.tls_text, plan.crypto_text                              # MBEDTLS_CONFIG_FILE, TF_PSA_CRYPTO_CONFIG_FILE
    write_pair(plan, "tls_config.h")                             # and tls_config_crypto.h

table.py (rules_4.toml: the 4.x facts), translate.py (a 3.6 choice -> the two files),
pair.py (the choice and the refusals), render.py (the text, write_pair), check.py (4.x's
own configuration checks, compiled on the host against a 4.0 tree), esp_idf.py (ESP-IDF
v6's sdkconfig.defaults and overlay, platforms/esp_idf_v6.toml).
"""
LINE = "4.0"
