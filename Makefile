# evtools — plain make.  Every tool in cmd/ is linked against one static
# library built from lib/.  Build output goes to $(B) (default build/), so a
# sanitizer build (make sanitize, B=build-san) never mixes with a normal one.

CC      ?= cc
CFLAGS  ?= -O2 -g
PREFIX  ?= /usr/local
BINDIR   = $(PREFIX)/bin
MANDIR   = $(PREFIX)/share/man
COMPDIR  = $(PREFIX)/share/bash-completion/completions
B       ?= build

PKGCONF  = $(shell pkg-config --cflags jansson uuid libpcre2-8 zlib libzstd libcrypto 2>/dev/null)
PKGLIBS  = $(shell pkg-config --libs jansson uuid libpcre2-8 zlib libzstd libcrypto 2>/dev/null || echo -ljansson -luuid -lpcre2-8 -lz -lzstd -lcrypto)
EVFLAGS  = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Ilib
LDLIBS  += $(PKGLIBS) -lm

LIB_SRC  = $(wildcard lib/*.c)
LIB_OBJ  = $(LIB_SRC:%.c=$(B)/%.o)
LIB_HDR  = $(wildcard lib/*.h)
TOOLS    = $(patsubst cmd/%.c,%,$(wildcard cmd/*.c))
BINS     = $(TOOLS:%=$(B)/bin/%)
UNIT     = $(patsubst tests/unit/%.c,$(B)/unit/%,$(wildcard tests/unit/*.c))
MAN1     = $(wildcard man/*.1)
MAN7     = $(wildcard man/*.7)

.PHONY: all deps demo check test lint sanitize bench bench-instr install uninstall clean

all: $(BINS) $(UNIT) $(B)/completions/evtools.bash

$(B)/lib/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(EVFLAGS) $(PKGCONF) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(B)/libev.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

$(B)/bin/%: cmd/%.c $(B)/libev.a $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(EVFLAGS) $(PKGCONF) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $< $(B)/libev.a $(LDLIBS) -o $@

$(B)/unit/%: tests/unit/%.c $(B)/libev.a $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(EVFLAGS) $(PKGCONF) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $< $(B)/libev.a $(LDLIBS) -o $@

# Bash completion, from the tools' own option tables (--list-options).
$(B)/completions/evtools.bash: completions/gen.sh $(BINS)
	@mkdir -p $(@D)
	sh completions/gen.sh $(B)/bin > $@.tmp.$$$$ && mv $@.tmp.$$$$ $@ || { rm -f $@.tmp.$$$$; exit 1; }

# Installs what is missing (as root, with apt-get), or prints the command.
deps:
	@sh .ci/deps

demo: deps
	@$(MAKE) --no-print-directory all
	@EVBIN=$(CURDIR)/$(B)/bin sh examples/demo.sh

check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory test lint

test: all
	EVBIN=$(CURDIR)/$(B)/bin EVUNIT=$(CURDIR)/$(B)/unit sh tests/run

lint:
	@for m in $(MAN1) $(MAN7); do \
		mandoc -Tlint -Wwarning $$m || exit 1; \
	done; echo "man pages: mandoc -Tlint clean"

# LeakSanitizer is on: a leak fails the test that ran into it.
SANFLAGS = -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
sanitize: deps
	@$(MAKE) --no-print-directory B=build-san CFLAGS='$(SANFLAGS)' LDFLAGS='-fsanitize=address,undefined' all
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	EVBIN=$(CURDIR)/build-san/bin EVUNIT=$(CURDIR)/build-san/unit sh tests/run

bench: deps
	@$(MAKE) --no-print-directory all
	@sh bench/run.sh

# Instructions per job, this tree against BASE (default HEAD~1), by callgrind.
bench-instr: deps
	@sh bench/instr.sh $(BASE)

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	for t in $(TOOLS); do cp $(B)/bin/$$t $(DESTDIR)$(BINDIR)/$$t; done
	for m in $(MAN1); do cp $$m $(DESTDIR)$(MANDIR)/man1/; done
	for m in $(MAN7); do cp $$m $(DESTDIR)$(MANDIR)/man7/; done
	mkdir -p $(DESTDIR)$(COMPDIR)
	cp $(B)/completions/evtools.bash $(DESTDIR)$(COMPDIR)/evtools
	for t in $(TOOLS); do ln -sf evtools $(DESTDIR)$(COMPDIR)/$$t; done

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(BINDIR)/$$t; done
	for m in $(MAN1); do rm -f $(DESTDIR)$(MANDIR)/man1/$${m#man/}; done
	for m in $(MAN7); do rm -f $(DESTDIR)$(MANDIR)/man7/$${m#man/}; done
	for t in evtools $(TOOLS); do rm -f $(DESTDIR)$(COMPDIR)/$$t; done

clean:
	rm -rf build build-san bench/out
