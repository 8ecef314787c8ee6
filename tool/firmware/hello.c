/* tlsfit proof firmware: semihosting output, UART round trip, stack peak.
 *
 *   tlsfit-fw: hello from <target>
 *   (sends "PING\n" on UART0, reads one line back)
 *   tlsfit-fw: uart replied "PONG"
 *   TLSFIT-RESULT {"ok":true,"echo":"PONG","stack_peak_bytes":N}
 *
 * Exit code 0 when the reply was "PONG", TF_EXIT_FAIL on another reply,
 * TF_EXIT_UART_TIMEOUT when the UART gave nothing. */
#include <stdio.h>
#include <string.h>

#include "tlsfit_fw.h"

/* Writes s as the body of a JSON string (no quotes) to stdout. */
static void put_json_string_body(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20 || c >= 0x7F)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
}

int main(void)
{
    printf("tlsfit-fw: hello from %s\n", TF_TARGET_NAME);

    tf_uart_init();
    static const char ping[] = "PING\n";
    char line[80];
    int rc = TF_EXIT_OK;
    if (tf_uart_write(ping, sizeof ping - 1, 0) != sizeof ping - 1) {
        printf("tlsfit-fw: UART write timed out\n");
        line[0] = '\0';
        rc = TF_EXIT_UART_TIMEOUT;
    } else if (tf_uart_read_line(line, sizeof line, 0) < 0) {
        printf("tlsfit-fw: no complete line on the UART (got %u bytes)\n", (unsigned)strlen(line));
        rc = TF_EXIT_UART_TIMEOUT;
    }
    line[strcspn(line, "\r\n")] = '\0';
    if (rc == TF_EXIT_OK) {
        printf("tlsfit-fw: uart replied \"%s\"\n", line);
        if (strcmp(line, "PONG") != 0)
            rc = TF_EXIT_FAIL;
    }

    printf("TLSFIT-RESULT {\"ok\":%s,\"echo\":\"", rc == TF_EXIT_OK ? "true" : "false");
    put_json_string_body(line);
    printf("\",\"stack_peak_bytes\":%u}\n", (unsigned)tf_stack_peak());
    return rc;
}
