// Publish benchmark for Debian's NATS C client (nats.c), the reference for our Swift client.
//
//   js_bench URL js|core MESSAGES RUN_ID [MAX_PENDING]
//
// js:   acknowledged JetStream publishes with js_PublishAsync (MAX_PENDING in flight, default 4000), each
//       400-byte message with its own Nats-Msg-Id, to stream BENCH (file storage, recreated first);
//       timed until js_PublishAsyncComplete returns, then the stream's message count is checked.
// core: plain publishes of 400-byte messages, timed until a flush (PING/PONG) returns.
// Prints one line: "c MODE window=W messages=N seconds=S rate=R".
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile int64_t ack_errors = 0;

static void on_ack_error(jsCtx *js, jsPubAckErr *pae, void *closure) {
    (void)js;
    (void)pae;
    (void)closure;
    ack_errors++;
}

static int fail(const char *what, natsStatus status) {
    fprintf(stderr, "js_bench: %s: %s\n", what, natsStatus_GetText(status));
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s URL js|core MESSAGES RUN_ID [MAX_PENDING]\n", argv[0]);
        return 2;
    }
    const char *url = argv[1];
    const char *mode = argv[2];
    long messages = strtol(argv[3], NULL, 10);
    const char *run_id = argv[4];
    long max_pending = argc > 5 ? strtol(argv[5], NULL, 10) : 4000;
    char payload[400];
    memset(payload, 'x', sizeof(payload));

    natsConnection *conn = NULL;
    natsStatus status = natsConnection_ConnectTo(&conn, url);
    if (status != NATS_OK) return fail("connect", status);

    double seconds = 0;
    if (strcmp(mode, "core") == 0) {
        double start = now_seconds();
        for (long i = 0; i < messages; i++) {
            status = natsConnection_Publish(conn, "bench.core", payload, (int)sizeof(payload));
            if (status != NATS_OK) return fail("publish", status);
        }
        status = natsConnection_FlushTimeout(conn, 60000);
        if (status != NATS_OK) return fail("flush", status);
        seconds = now_seconds() - start;
        max_pending = 0;
    } else if (strcmp(mode, "js") == 0) {
        jsOptions options;
        jsOptions_Init(&options);
        options.PublishAsync.MaxPending = max_pending;
        options.PublishAsync.ErrHandler = on_ack_error;
        jsCtx *js = NULL;
        status = natsConnection_JetStream(&js, conn, &options);
        if (status != NATS_OK) return fail("jetstream", status);

        jsErrCode error_code = 0;
        js_DeleteStream(js, "BENCH", NULL, &error_code);
        jsStreamConfig config;
        jsStreamConfig_Init(&config);
        config.Name = "BENCH";
        const char *subjects[] = {"bench.js"};
        config.Subjects = subjects;
        config.SubjectsLen = 1;
        config.Storage = js_FileStorage;
        jsStreamInfo *info = NULL;
        status = js_AddStream(&info, js, &config, NULL, &error_code);
        if (status != NATS_OK) return fail("add stream", status);
        jsStreamInfo_Destroy(info);

        jsPubOptions publish_options;
        char message_id[96];
        double start = now_seconds();
        for (long i = 0; i < messages; i++) {
            jsPubOptions_Init(&publish_options);
            snprintf(message_id, sizeof(message_id), "%s-%ld", run_id, i);
            publish_options.MsgId = message_id;
            status = js_PublishAsync(js, "bench.js", payload, (int)sizeof(payload), &publish_options);
            if (status != NATS_OK) return fail("publish async", status);
        }
        jsPubOptions complete_options;
        jsPubOptions_Init(&complete_options);
        complete_options.MaxWait = 60000;
        status = js_PublishAsyncComplete(js, &complete_options);
        if (status != NATS_OK) return fail("publish async complete", status);
        seconds = now_seconds() - start;

        info = NULL;
        status = js_GetStreamInfo(&info, js, "BENCH", NULL, &error_code);
        if (status != NATS_OK) return fail("stream info", status);
        if ((long)info->State.Msgs != messages || ack_errors != 0) {
            fprintf(stderr, "js_bench: stream holds %llu messages, expected %ld; %lld ack errors\n",
                    (unsigned long long)info->State.Msgs, messages, (long long)ack_errors);
            return 1;
        }
        jsStreamInfo_Destroy(info);
        jsCtx_Destroy(js);
    } else {
        fprintf(stderr, "js_bench: unknown mode %s\n", mode);
        return 2;
    }
    printf("c %s window=%ld messages=%ld seconds=%.3f rate=%.0f\n", mode, max_pending, messages, seconds,
           (double)messages / seconds);
    natsConnection_Destroy(conn);
    nats_Close();
    return 0;
}
