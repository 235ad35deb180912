# bulletin: a monthly digest newsletter, composed and sent from one C program.
#
#   make           build ./bulletin
#   make deps      install the Debian packages the build and the tests need
#   make check     unit tests (plain, then ASan+UBSan) and integration tests
#   make demo      preview the sample issue into out/, import sample subscribers
#   make bench     the benchmarks in tests/bench/
#
# Local overrides (CC=clang, CFLAGS=-O0 ...) go in config.mk.

-include config.mk

CC      ?= cc
CFLAGS  ?= -O2 -g
PYTHON  := /usr/bin/python3
PKGS    := libcurl libcmark sqlite3 yaml-0.1 inih gnutls libidn2 libmicrohttpd

# libetpan's pkg-config adds a non-PIE specs file; plain -letpan links fine.
DEP_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
DEP_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -letpan

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
	libyaml-dev libinih-dev libmicrohttpd-dev libgnutls28-dev libidn2-dev \
	libcmocka-dev sqlite3 python3 python3-pytest python3-aiosmtpd \
	chromium fonts-noto-cjk spamassassin time \
	postfix python3-cryptography

.PHONY: all deps check unit unit-asan integration clang-check demo bench clean

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

build/obj build/asan:
	mkdir -p $@

# Idempotent: apt runs only when a package is missing. Postfix is there
# for the benchmark's smtp-sink and smtp-source only: "No configuration"
# installs it without a mail system to set up and starts no daemon.
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
unit: $(UNIT)
	@set -e; for t in $(UNIT); do echo "== $$t"; ./$$t; done

unit-asan: $(UNIT_ASAN)
	@set -e; for t in $(UNIT_ASAN); do echo "== $$t"; \
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ./$$t; done

integration: bulletin
	$(PYTHON) -m pytest -q tests/integration

check: deps
	$(MAKE) all
	$(MAKE) clang-check
	$(MAKE) unit
	$(MAKE) unit-asan
	$(MAKE) integration

# The sources must compile warning-free with clang too (gcc builds them above).
clang-check:
	@for f in $(SRC); do \
		clang $(CFLAGS) -fsyntax-only $$f || exit 1; \
	done; echo "clang-check: $(words $(SRC)) files compile cleanly with clang"

demo: deps
	$(MAKE) all
	./bulletin -c config/bulletin.conf preview digests/2021-03 -o out
	@echo "open out/2021-03.html in a browser, out/2021-03.eml in a mail client"
	@# the token secret 'bulletin init' makes in a new project
	@test -f config/secret || { umask 077; head -c 32 /dev/urandom | \
		od -An -tx1 -v | tr -d ' \n' > config/secret; }
	./bulletin -c config/bulletin.conf sub import subscribers/sample.csv
	./bulletin -c config/bulletin.conf sub list
	./bulletin -c config/bulletin.conf send digests/2021-03 --yes
	./bulletin -c config/bulletin.conf report 2021-03
	@echo "read what was sent: mutt -f subscribers/outbox"

build/obj/curl_bare_sender: tests/bench/curl_bare_sender.c | build/obj
	$(CC) $(TEST_CFLAGS) -o $@ $< $(DEP_LIBS)

bench: bulletin build/obj/curl_bare_sender
	@set -e; for b in tests/bench/bench_*.py; do $(PYTHON) $$b; done

clean:
	rm -rf build bulletin out
