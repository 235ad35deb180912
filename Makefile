# bulletin: a monthly digest newsletter, composed and sent from one C program.
#
#   make           build ./bulletin
#   make deps      install the Debian packages the build and the tests need
#   make check     unit tests (plain, then ASan+UBSan) and integration tests
#   make demo      preview the sample issue into out/, import sample subscribers
#   make bench     the benchmarks in tests/bench/
#   make fuzz      run each libFuzzer harness in tests/fuzz/ (see below)
#   make mutate    mutation testing of the pure modules (MUTATE_FILES=...)
#   make install   bulletin, its default templates and man page under PREFIX
#                  (/usr/local), staged under DESTDIR when set
#
# Local overrides (CC=clang, CFLAGS=-O0 ...) go in config.mk.

-include config.mk

CC      ?= cc
CFLAGS  ?= -O2 -g
PYTHON  := /usr/bin/python3
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share/bulletin
MANDIR  ?= $(PREFIX)/share/man
INSTALL ?= install
PKGS    := libcurl libcmark sqlite3 yaml-0.1 gnutls libidn2 libmicrohttpd

# libetpan's pkg-config adds a non-PIE specs file; plain -letpan links fine.
# opendkim's adds -I/usr/include/opendkim, whose dkim.h would shadow
# src/dkim.h: dkim.c includes <opendkim/dkim.h> and links -lopendkim.
DEP_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
DEP_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -letpan -lopendkim

WARN := -Wall -Wextra -Werror -Wshadow -Wconversion -Wno-sign-conversion \
	-Wstrict-prototypes -Wmissing-prototypes
override CFLAGS += -std=c11 -D_GNU_SOURCE $(WARN) $(DEP_CFLAGS)

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all

SRC      := $(wildcard src/*.c)
LIB_SRC  := $(filter-out src/main.c,$(SRC))
OBJ      := $(LIB_SRC:src/%.c=build/obj/%.o)
ASAN_OBJ := $(LIB_SRC:src/%.c=build/asan/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT     := $(UNIT_SRC:tests/unit/%.c=build/obj/%)
UNIT_ASAN:= $(UNIT_SRC:tests/unit/%.c=build/asan/%)
TEST_CFLAGS := $(filter-out -Wconversion -Wmissing-prototypes,$(CFLAGS)) -Isrc

DEB_PACKAGES := build-essential pkg-config clang \
	libcurl4-gnutls-dev libetpan-dev libcmark-dev libsqlite3-dev \
	libyaml-dev libmicrohttpd-dev libgnutls28-dev libidn2-dev \
	libcmocka-dev sqlite3 python3 python3-pytest python3-aiosmtpd \
	chromium fonts-noto-cjk spamassassin time man-db groff-base \
	libopendkim-dev python3-dkim python3-nacl libmail-dkim-perl \
	libcryptx-perl openssl python3-cryptography \
	python3-flufl.bounce libsisimai-perl postfix dovecot-imapd \
	python3-pytest-timeout coreutils

.PHONY: all deps check unit unit-asan integration clang-check demo bench mutate \
	clean install uninstall FORCE

all: bulletin

bulletin: build/obj/main.o $(OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(DEP_LIBS)

build/obj/%.o: src/%.c $(wildcard src/*.h) | build/obj
	$(CC) $(CFLAGS) -c -o $@ $<

build/asan/%.o: src/%.c $(wildcard src/*.h) | build/asan
	$(CC) $(CFLAGS) -O1 $(SAN_FLAGS) -c -o $@ $<

build/obj/test_%: tests/unit/test_%.c $(OBJ) | build/obj
	$(CC) $(TEST_CFLAGS) -o $@ $< $(OBJ) $(DEP_LIBS) -lcmocka

build/asan/test_%: tests/unit/test_%.c $(ASAN_OBJ) | build/asan
	$(CC) $(TEST_CFLAGS) -O1 $(SAN_FLAGS) -o $@ $< $(ASAN_OBJ) $(DEP_LIBS) -lcmocka

build/obj/render_bench: tests/bench/render_bench.c $(OBJ) | build/obj
	$(CC) $(TEST_CFLAGS) -o $@ $< $(OBJ) $(DEP_LIBS)

build/obj/dkim_bench: tests/bench/dkim_bench.c $(OBJ) | build/obj
	$(CC) $(TEST_CFLAGS) -o $@ $< $(OBJ) $(DEP_LIBS)
build/obj/http_load: tests/bench/http_load.c | build/obj
	$(CC) $(TEST_CFLAGS) -o $@ $<

build/obj build/asan:
	mkdir -p $@

# datadir.c has DATADIR compiled in: rebuilt whenever DATADIR changes.
build/datadir.txt: FORCE | build/obj
	@echo '$(DATADIR)' | cmp -s - $@ || echo '$(DATADIR)' > $@
build/obj/datadir.o build/asan/datadir.o: build/datadir.txt
build/obj/datadir.o build/asan/datadir.o: \
	override CFLAGS += -DBULLETIN_DATADIR='"$(DATADIR)"'

# Idempotent: apt runs only when a package is missing. Postfix is there
# for the benchmark's smtp-sink and smtp-source and the inbox tests'
# throw-away instances: "No configuration" installs it without a mail
# system to set up and starts no daemon.
deps:
	@missing=; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${db:Status-Abbrev}' $$p 2>/dev/null | \
			grep -q '^ii' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		echo "postfix postfix/main_mailer_type select No configuration" | \
			debconf-set-selections; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q --no-install-recommends $$missing; \
	else echo "deps: all installed"; fi

# Unit tests run from the top folder (they read tests/ fixtures).
# A hung test fails the run instead of eating CI's time: every unit test
# binary and corpus replay gets UNIT_LIMIT, every pytest test TEST_LIMIT.
UNIT_LIMIT ?= 300
TEST_LIMIT ?= 300

unit: $(UNIT)
	@set -e; for t in $(UNIT); do echo "== $$t"; \
		timeout -k 10 $(UNIT_LIMIT) ./$$t; done

unit-asan: $(UNIT_ASAN)
	@set -e; for t in $(UNIT_ASAN); do echo "== $$t"; \
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		LSAN_OPTIONS=suppressions=tests/lsan.supp \
		timeout -k 10 $(UNIT_LIMIT) ./$$t; done

integration: bulletin bulletin-asan
	$(INTEGRATION_ENV) $(PYTHON) -m pytest -q \
		--timeout=$(TEST_LIMIT) tests/integration

check: deps
	$(MAKE) all
	$(MAKE) clang-check
	$(MAKE) unit
	$(MAKE) unit-asan
	$(MAKE) fuzz-replay
	$(MAKE) integration

# The sources must compile warning-free with clang too (gcc builds them above).
clang-check:
	@for f in $(SRC); do \
		clang $(CFLAGS) -fsyntax-only $$f || exit 1; \
	done; echo "clang-check: $(words $(SRC)) files compile cleanly with clang"

demo: deps
	$(MAKE) all
	@# the unsubscribe links are signed: the first run makes the secret
	test -f config/secret || ./bulletin -c config/bulletin.conf secret rotate
	./bulletin -c config/bulletin.conf preview digests/2021-03 -o out
	@echo "open out/2021-03.html in a browser, out/2021-03.eml in a mail client"
	./bulletin -c config/bulletin.conf sub import subscribers/sample.csv
	./bulletin -c config/bulletin.conf sub list
	./bulletin -c config/bulletin.conf send digests/2021-03 --yes
	./bulletin -c config/bulletin.conf report 2021-03
	@echo "read what was sent: mutt -f subscribers/outbox"

build/obj/curl_bare_sender: tests/bench/curl_bare_sender.c | build/obj
	$(CC) $(TEST_CFLAGS) -o $@ $< $(DEP_LIBS)

bench: bulletin build/obj/http_load build/obj/curl_bare_sender
	@set -e; for b in tests/bench/bench_*.py; do $(PYTHON) $$b; done

# The defaults init copies: templates/ and starter/, as files.
DATA_FILES := $(shell find templates starter -type f 2>/dev/null)

install: bulletin
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	$(INSTALL) -m 755 bulletin $(DESTDIR)$(BINDIR)/bulletin
	$(INSTALL) -m 644 man/bulletin.1 $(DESTDIR)$(MANDIR)/man1/bulletin.1
	@set -e; for f in $(DATA_FILES); do \
		echo "$(INSTALL) -D -m 644 $$f $(DESTDIR)$(DATADIR)/$$f"; \
		$(INSTALL) -D -m 644 $$f $(DESTDIR)$(DATADIR)/$$f; done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/bulletin $(DESTDIR)$(MANDIR)/man1/bulletin.1
	rm -rf $(DESTDIR)$(DATADIR)

FORCE:

# One operator flipped at a time, each mutant run against its module's
# unit tests; survivors are listed (tools/mutate.py says how to read them).
MUTATE_FILES := src/address.c src/csv.c src/wrap.c src/utf8.c \
	src/template.c src/mime.c

mutate:
	$(PYTHON) tools/mutate.py $(MUTATE_FILES)

clean:
	rm -rf build bulletin bulletin-asan out

# ---- sanitizers and fuzzing (issue 6: keep it fixed) ------------------------
#
# bulletin-asan   ./bulletin built from the ASan+UBSan objects; `make
#                 integration` runs the pytest suite against it
#                 (tests/integration/conftest.py reads BULLETIN_BINARY and
#                 fails a test whose run wrote a sanitizer report).
# fuzz            builds each tests/fuzz/fuzz_NAME.c with clang and
#                 libFuzzer (plus ASan+UBSan) and runs it for FUZZ_SECONDS
#                 on a scratch copy of tests/fuzz/corpus/NAME, one harness
#                 after the other; new inputs stay in build/fuzz/corpus/NAME,
#                 crashes go to build/fuzz/crashes/NAME.
# fuzz-merge      adds to tests/fuzz/corpus/NAME the inputs of
#                 build/fuzz/corpus/NAME that reach new edges (edges only,
#                 -use_counters=0, so corpora stay small), to commit.
# fuzz-replay     replays the committed corpora once under ASan+UBSan with
#                 tests/fuzz/replay.c instead of libFuzzer (any compiler, a
#                 few seconds); part of `make check`. Reproducers of crashes
#                 not fixed yet wait in tests/fuzz/crashes/NAME, not replayed.

.PHONY: fuzz fuzz-merge fuzz-replay

FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN     := $(FUZZ_NAMES:%=build/fuzz/fuzz_%)
REPLAY_BIN   := $(FUZZ_NAMES:%=build/asan/fuzz_%)
FUZZ_OBJ     := $(LIB_SRC:src/%.c=build/fuzz/%.o)
FUZZ_CFLAGS  := $(TEST_CFLAGS) -O1 -DFUZZ_TOP='"$(CURDIR)"'
FUZZ_SAN     := $(SAN_FLAGS) -fsanitize=fuzzer-no-link
FUZZ_OPTS    := -timeout=30 -rss_limit_mb=2048 -print_final_stats=1
SAN_ENV      := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1
INTEGRATION_ENV := $(SAN_ENV) BULLETIN_BINARY=$(CURDIR)/bulletin-asan

bulletin-asan: build/asan/main.o $(ASAN_OBJ)
	$(CC) $(CFLAGS) -O1 $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(DEP_LIBS)

# Named only by a pattern rule, they would count as intermediate and be
# deleted after each build.
.SECONDARY: $(FUZZ_OBJ)

build/fuzz:
	mkdir -p $@

build/fuzz/%.o: src/%.c $(wildcard src/*.h) | build/fuzz
	$(FUZZ_CC) $(CFLAGS) -O1 $(FUZZ_SAN) -c -o $@ $<

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJ) | build/fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(SAN_FLAGS) -fsanitize=fuzzer -o $@ $< \
		$(FUZZ_OBJ) $(DEP_LIBS)

build/asan/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h \
		$(ASAN_OBJ) | build/asan
	$(CC) $(FUZZ_CFLAGS) $(SAN_FLAGS) -o $@ $< tests/fuzz/replay.c \
		$(ASAN_OBJ) $(DEP_LIBS)

# One harness at a time, one process each: the machine's cores are shared.
fuzz: $(FUZZ_BIN)
	@failed=; for n in $(FUZZ_NAMES); do \
		rm -rf build/fuzz/corpus/$$n; \
		mkdir -p build/fuzz/corpus/$$n build/fuzz/crashes/$$n; \
		cp tests/fuzz/corpus/$$n/* build/fuzz/corpus/$$n/; \
		echo "== fuzz_$$n for $(FUZZ_SECONDS) s"; \
		$(SAN_ENV) ./build/fuzz/fuzz_$$n $(FUZZ_OPTS) \
			-max_total_time=$(FUZZ_SECONDS) \
			-artifact_prefix=build/fuzz/crashes/$$n/ \
			build/fuzz/corpus/$$n 2>build/fuzz/$$n.log || \
			{ failed="$$failed $$n"; tail -40 build/fuzz/$$n.log; }; \
		grep -h '^stat::\(number_of_executed_units\|peak_rss\|new_units\)' \
			build/fuzz/$$n.log | sort -u || true; \
	done; \
	if [ -n "$$failed" ]; then \
		echo "fuzz: crashes in:$$failed (see build/fuzz/crashes/)"; exit 1; \
	fi

fuzz-merge: $(FUZZ_BIN)
	@set -e; for n in $(FUZZ_NAMES); do \
		[ -d build/fuzz/corpus/$$n ] || continue; \
		mkdir -p tests/fuzz/corpus/$$n; \
		$(SAN_ENV) ./build/fuzz/fuzz_$$n -merge=1 -use_counters=0 -timeout=30 \
			tests/fuzz/corpus/$$n build/fuzz/corpus/$$n \
			2>build/fuzz/$$n.merge.log; \
		echo "fuzz-merge: $$n: $$(ls tests/fuzz/corpus/$$n | wc -l) files"; \
	done

fuzz-replay: $(REPLAY_BIN)
	@set -e; for n in $(FUZZ_NAMES); do \
		$(SAN_ENV) timeout -k 10 $(UNIT_LIMIT) \
			./build/asan/fuzz_$$n tests/fuzz/corpus/$$n; done
