/* The runner's Python for bench/jobs.sh, as a small compiled program rather than a shell
 * script: a shell's own start-up (1.5-5 ms on a loaded 2-core machine) was part of the
 * measured "run/ -> job process started" of both servers and hid the difference between them.
 *
 * For runner processes (any argument containing "run_job") it writes the wall-clock time
 * at which it started to STAMP_DIR/start.<pid>, runs REAL_PYTHON with the same arguments as
 * its child, writes the time the child exited to STAMP_DIR/end.<pid> and exits with the
 * child's status. Anything else is simply exec'd.
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
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 127;
    }
    if (child == 0) {
        execv(REAL_PYTHON, argv);
        perror("execv");
        _exit(127);
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
