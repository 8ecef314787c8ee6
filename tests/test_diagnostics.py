"""mbedTLS's and the compiler's text reach the user as plain prose (issue 23, part 6).

Pure functions of tlsfit.mbedtls.check on real compiler output: an #error from
mbedTLS 3.6's check_config.h, which splits long messages into adjacent C string
literals over continued lines, must read as one sentence without quotes, and a
fit's report must say "rejected by ... check_config.h" once.
"""
from tlsfit.mbedtls import check
from tlsfit.host.verify import HARNESS, verify_info_text

# check_config.h (mbedTLS 3.6.6) line 856-857:
#   #error "One or more versions of the TLS protocol are enabled " \
#           "but no key exchange methods defined with MBEDTLS_KEY_EXCHANGE_xxxx"
# and what gcc 14 prints for it (`gcc -fsyntax-only`, arm-none-eabi-gcc alike):
GCC_SPLIT = ('/root/.cache/tlsfit/mbedtls-3.6/include/mbedtls/check_config.h:856:2: error: '
             '#error "One or more versions of the TLS protocol are enabled " "but no key '
             'exchange methods defined with MBEDTLS_KEY_EXCHANGE_xxxx"\n'
             '  856 | #error "One or more versions of the TLS protocol are enabled " \\\n'
             '      |  ^~~~~\n')
SPLIT_TEXT = ("One or more versions of the TLS protocol are enabled but no key exchange methods "
              "defined with MBEDTLS_KEY_EXCHANGE_xxxx")


def test_split_literals_are_joined_without_quotes():
    msg = GCC_SPLIT.split(" error: ", 1)[1].splitlines()[0]
    assert check.error_text(msg) == SPLIT_TEXT


def test_one_literal_and_clang_form():
    # check_config.h line 1138 (two spaces after #error), as gcc quotes it:
    assert check.error_text('#error "MBEDTLS_PKCS7_C is defined, but not all prerequisites"') \
        == "MBEDTLS_PKCS7_C is defined, but not all prerequisites"
    # clang prints the literals without the directive:
    assert check.error_text('"MBEDTLS_ECP_C defined, " "but not all prerequisites"') \
        == "MBEDTLS_ECP_C defined, but not all prerequisites"
    assert check.error_text(r'#error "a \"quoted\" name"') == 'a "quoted" name'
    assert check.error_text("#error bare words, no literal") == "bare words, no literal"


def test_the_literals_are_those_of_the_set_up_tree(tree36):
    """GCC_SPLIT quotes a real #error of the tree tlsfit builds against."""
    text = (tree36.path / "include" / "mbedtls" / "check_config.h").read_text()
    assert ('#error "One or more versions of the TLS protocol are enabled " \\\n'
            '        "but no key exchange methods defined with MBEDTLS_KEY_EXCHANGE_xxxx"') in text


def test_diagnose_says_the_prefix_once():
    message, deterministic = check.diagnose(GCC_SPLIT, "tls_config.h", HARNESS)
    assert deterministic
    assert message == f"tls_config.h: rejected by mbedTLS check_config.h: {SPLIT_TEXT}"
    assert check.reason(message) == f"rejected by mbedTLS check_config.h: {SPLIT_TEXT}"
    assert message.count("check_config.h") == 1 and '"' not in message


def test_harness_error_drops_its_tag():
    out = ('/repo/tool/verify/client.c:40:2: error: #error "tlsfit verify: the header '
           'needs " "MBEDTLS_SSL_CLI_C"\n')
    assert check.diagnose(out, "my.h", HARNESS) == (
        "my.h: cannot be verified: the header needs MBEDTLS_SSL_CLI_C", True)


def test_reason_keeps_messages_without_a_header_name():
    assert check.reason("mbedTLS does not compile") == "mbedTLS does not compile"
    assert check.reason("dev/tls_config.h: does not compile: line 3: x") == \
        "does not compile: line 3: x"


def test_verify_info_lines_read_as_a_list():
    # mbedtls_x509_crt_verify_info(buf, size, "", EXPIRED | NOT_TRUSTED) on 3.6 (texts:
    # include/mbedtls/x509_crt.h, MBEDTLS_X509_CRT_ERROR_INFO_LIST), folded by
    # tool/verify/report.c:
    folded = ("The certificate validity has expired;The certificate is not correctly "
              "signed by the trusted CA")
    assert verify_info_text(folded) == ("The certificate validity has expired; The "
                                        "certificate is not correctly signed by the trusted CA")
    # the flag-name fallback (a build without info strings) is already joined with "; "
    assert verify_info_text("MBEDTLS_X509_BADCERT_EXPIRED; MBEDTLS_X509_BADCERT_NOT_TRUSTED") \
        == "MBEDTLS_X509_BADCERT_EXPIRED; MBEDTLS_X509_BADCERT_NOT_TRUSTED"
