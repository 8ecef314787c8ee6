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

    size_t stack_peak = tf_stack_peak();
    fflush(stdout); /* the lines above first, then the result line through out.c */
    tf_out_str("TLSFIT-RESULT {\"ok\":");
    tf_out_str(rc == TF_EXIT_OK ? "true" : "false");
    tf_out_str(",\"echo\":");
    tf_out_json_str(line);
    tf_out_str(",\"stack_peak_bytes\":");
    tf_out_u64(stack_peak);
    tf_out_str("}\n");
    tf_out_flush();
    return rc;
}
