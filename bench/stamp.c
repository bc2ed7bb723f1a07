/* The runner's Python for bench/jobs.sh, as a small compiled program rather than a shell
 * script: a shell's own start-up (1.5-5 ms on a loaded 2-core machine) was part of the
 * measured "run/ -> job process started" of both servers and hid the difference between them.
 *
 * For runner processes (any argument containing "run_job") it writes the wall-clock time
 * at which it started to STAMP_DIR/start.<pid>, runs REAL_PYTHON with the same arguments as
 * its child, writes the time the child exited to STAMP_DIR/end.<pid> and exits with the
 * child's status. Anything else is simply exec'd. When i2server gives the runner a done
 * channel (I2SERVER_DONE_FD=0, standard input), the wrapper relays it and writes the time
 * the runner announced its end to STAMP_DIR/done.<pid>.
 * Build: cc -O2 -DREAL_PYTHON='"/path/python"' -DSTAMP_DIR='"/tmp/x"' -o ccp4-python stamp.c */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static void stamp(const char *kind) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.%d", STAMP_DIR, kind, (int)getpid());
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "%ld.%06ld\n", (long)tv.tv_sec, (long)tv.tv_usec);
        fclose(f);
    }
}

int main(int argc, char **argv) {
    int runner = 0;
    for (int i = 1; i < argc; i++)
        if (strstr(argv[i], "run_job")) runner = 1;
    argv[0] = REAL_PYTHON;
    if (!runner) {
        execv(REAL_PYTHON, argv);
        perror("execv");
        return 127;
    }
    stamp("start");
    /* i2server's done channel (standard input, I2SERVER_DONE_FD=0): pass it through a pipe
     * of our own, to stamp when the runner announces its end. */
    const char *done = getenv("I2SERVER_DONE_FD");
    int relay[2] = {-1, -1};
    if (done && strcmp(done, "0") == 0 && pipe(relay) != 0) {
        perror("pipe");
        return 127;
    }
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 127;
    }
    if (child == 0) {
        if (relay[1] >= 0) {
            dup2(relay[1], 0);
            close(relay[0]);
            close(relay[1]);
        }
        execv(REAL_PYTHON, argv);
        perror("execv");
        _exit(127);
    }
    if (relay[0] >= 0) {
        close(relay[1]);
        char buf[256];
        ssize_t n;
        int stamped = 0;
        while ((n = read(relay[0], buf, sizeof buf)) != 0) {
            if (n < 0) {
                if (errno == EINTR) continue;
                break;
            }
            if (!stamped) {
                stamp("done");
                stamped = 1;
            }
            if (write(0, buf, (size_t)n) != n) break;
        }
        close(relay[0]);
    }
    int status = 0;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            perror("waitpid");
            return 127;
        }
    }
    stamp("end");
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}
