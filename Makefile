# mod_pkgindex — build, run and test.
#   make run    install what is missing, build, create the sample database, serve on :8080
#   make test   install what is missing, build, run the unit and integration tests

APXS_INCLUDES := -I/usr/include/apache2 -I/usr/include/apr-1.0 -I/usr/include/postgresql
CC       ?= gcc
CFLAGS   ?= -O2 -g
# SANITIZE: compiler and linker flags of a sanitizer build, SANITIZE_LD its linker's only
# (make test-asan sets them).
SANITIZE    ?=
SANITIZE_LD ?=
CFLAGS   += -std=gnu11 -fPIC -Wall -Wextra -Werror -Wno-unused-parameter \
            -DLINUX -D_REENTRANT -D_GNU_SOURCE $(APXS_INCLUDES) -Imod_pkgindex $(SANITIZE)
LDFLAGS  += $(SANITIZE) $(SANITIZE_LD)
LIBS     := -lapr-1 -laprutil-1 -ljson-c -lsqlite3 -lpq

B := build
# The importer binary; `make test-asan` builds its own under build-asan/.
IMPORT := bin/pkgindex-import

# The httpd-free core: plain C on APR and apr_dbd, shared by the module, the tools and the tests.
CORE_SRCS := buf jsonw tz query route negotiate links search render render_html api cache parse \
             import_scan import errlog store store_sql store_sqlite store_sqlite_fts5 store_sqlite_search \
             store_sqlite_open store_pgsql store_pgsql_search store_pgsql_open
GLUE_SRCS := config mod_pkgindex
UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))

CORE_OBJS := $(CORE_SRCS:%=$(B)/%.o)
GLUE_OBJS := $(GLUE_SRCS:%=$(B)/%.o)
HEADERS   := $(wildcard mod_pkgindex/*.h)

PORT ?= 8080
DB   ?= var/pkgindex.sqlite3

.PHONY: all build deps deps-test run test unit integration format format-check install uninstall \
        bench soak clean fuzz fuzz-build fuzz-long test-asan

all: build
build: $(B)/mod_pkgindex.so $(IMPORT)

$(B)/%.o: mod_pkgindex/%.c $(HEADERS)
	@mkdir -p $(B)
	$(CC) $(CFLAGS) -c -o $@ $<

# The schemas --init runs are compiled into the core (each backend has its own).
SCHEMAS := schema_sqlite schema_pgsql_original schema_pgsql_module
$(B)/libpkicore.a: $(CORE_OBJS) $(SCHEMAS:%=$(B)/%.o)
	rm -f $@ && ar rcs $@ $^

$(B)/mod_pkgindex.so: $(GLUE_OBJS) $(B)/libpkicore.a
	$(CC) $(LDFLAGS) -shared -o $@ $(GLUE_OBJS) $(B)/libpkicore.a $(LIBS)

# SQL text as a C string: pki_schema_NAME.
define sql_to_c
	@mkdir -p $(B)
	{ echo 'const char pki_$(1)[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$$/\\n"/' $<; echo ';'; } > $@
endef
$(B)/schema_sqlite.c: sql/schema-sqlite.sql
	$(call sql_to_c,schema_sqlite)
$(B)/schema_pgsql_original.c: sql/original-pgsql.sql
	$(call sql_to_c,schema_pgsql_original)
$(B)/schema_pgsql_module.c: sql/pkgindex-pgsql.sql
	$(call sql_to_c,schema_pgsql_module)

$(B)/schema_%.o: $(B)/schema_%.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(IMPORT): $(B)/import_main.o $(B)/libpkicore.a
	$(CC) $(LDFLAGS) -o $@ $(B)/import_main.o $(B)/libpkicore.a $(LIBS)

$(B)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(B)/libpkicore.a $(HEADERS)
	@mkdir -p $(B)/tests
	$(CC) $(CFLAGS) $(LDFLAGS) -Wno-unused-function -o $@ $< $(B)/libpkicore.a $(LIBS) -lcmocka

deps:
	@scripts/install-deps run

deps-test:
	@scripts/install-deps test

SAMPLE := tests/data/sample/categories.jsonl tests/data/sample/grids.jsonl tests/data/sample/packages.jsonl

$(DB): | $(B)/mod_pkgindex.so bin/pkgindex-import
	@mkdir -p $(dir $@)
	bin/pkgindex-import --db sqlite3:$@ --init $(SAMPLE)

run: deps
	$(MAKE) build
	$(MAKE) $(DB)
	exec bin/pkgindex-serve --port $(PORT) --db sqlite3:$(DB)

unit: $(UNIT_TESTS:%=$(B)/tests/%)
	@set -e; for t in $^; do echo "== $$t"; $$t; done

integration: build
	/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration

test: deps-test
	$(MAKE) build unit format-check
	$(MAKE) integration
	$(MAKE) fuzz

# --- Fuzzing: libFuzzer targets (tests/fuzz/fuzz_*.c) on the core, built with clang and
# ASan+UBSan in build-fuzz/. `make fuzz` replays each seed corpus (tests/fuzz/corpus/NAME/) and
# fuzzes each target FUZZ_TIME seconds; what it finds goes to build-fuzz/corpus/NAME/, a crash
# input to build-fuzz/artifacts/. `make fuzz-long` is ten minutes a target.
FUZZ_CC   ?= clang-14
FUZZ_TIME ?= 3
FZ        := build-fuzz
FUZZ_SAN  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -O1 -g $(FUZZ_SAN) -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
               -DLINUX -D_REENTRANT -D_GNU_SOURCE $(APXS_INCLUDES) -Imod_pkgindex
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
# fuzz_import drives the importer's splitter through its own API, where the tree has it
ifeq ($(wildcard mod_pkgindex/import_scan.h),)
FUZZ_TARGETS := $(filter-out import,$(FUZZ_TARGETS))
endif

$(FZ)/%.o: mod_pkgindex/%.c $(HEADERS)
	@mkdir -p $(FZ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FZ)/schema_%.o: $(B)/schema_%.c
	@mkdir -p $(FZ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FZ)/libpkicore.a: $(CORE_SRCS:%=$(FZ)/%.o) $(SCHEMAS:%=$(FZ)/%.o)
	rm -f $@ && ar rcs $@ $^

$(FZ)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FZ)/libpkicore.a $(HEADERS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Wno-unused-function -fsanitize=fuzzer -o $@ $< $(FZ)/libpkicore.a $(LIBS)

fuzz-build: $(FUZZ_TARGETS:%=$(FZ)/fuzz_%)

fuzz: fuzz-build
	tests/fuzz/run $(FZ) $(FUZZ_TIME) $(FUZZ_TARGETS)

fuzz-long:
	$(MAKE) fuzz FUZZ_TIME=600

# --- The unit and integration tests against an ASan+UBSan build (build-asan/): the module,
# loaded into Debian's apache2 with the ASan runtime preloaded, and the importer. Leaks are
# checked in the unit tests and the importer, not in httpd (its pools live until exit). Any
# sanitizer report fails the run (tests/integration/conftest.py). Run it before a release.
# UBSan's runtime is linked in statically, so that the importer's reports follow log_path too
# (gcc's shared one, next to ASan, ignores it; httpd's go to its error log, which is scanned).
ASAN_B        := build-asan
ASAN_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

test-asan: deps-test
	$(MAKE) B=$(ASAN_B) IMPORT=$(ASAN_B)/pkgindex-import SANITIZE="$(ASAN_SANITIZE)" \
	    SANITIZE_LD=-static-libubsan build unit
	PKGINDEX_MODULE=$(CURDIR)/$(ASAN_B)/mod_pkgindex.so \
	PKGINDEX_IMPORT=$(CURDIR)/$(ASAN_B)/pkgindex-import \
	PKGINDEX_PRELOAD=$$($(CC) -print-file-name=libasan.so) \
	    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration

# Not part of `make test`: minutes of wrk runs and a million-package dataset (cached).
bench:
	@scripts/install-deps bench
	$(MAKE) build
	bench/run-bench --rss 1000000
	bench/callgrind-request id slug list deep grid root 304
	bench/search-bench

# Not part of `make test` either: a million mixed requests with the response cache on, then
# off, watching the httpd children's memory (SOAK_ARGS, e.g. --requests 100000).
soak:
	@scripts/install-deps bench
	$(MAKE) build
	bench/soak $(SOAK_ARGS)

format:
	clang-format -i mod_pkgindex/*.c mod_pkgindex/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/fuzz/*.h

format-check:
	clang-format --dry-run -Werror mod_pkgindex/*.c mod_pkgindex/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/fuzz/*.h

# Into an existing Debian Apache: then `a2enmod pkgindex` and edit
# /etc/apache2/mods-available/pkgindex.conf (kept if it exists). DESTDIR stages the files.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MODDIR  := /usr/lib/apache2/modules
MODSDIR := /etc/apache2/mods-available

install: deps
	$(MAKE) build
	install -D -m 644 $(B)/mod_pkgindex.so $(DESTDIR)$(MODDIR)/mod_pkgindex.so
	install -D -m 644 conf/pkgindex.load $(DESTDIR)$(MODSDIR)/pkgindex.load
	install -D -m 755 bin/pkgindex-import $(DESTDIR)$(BINDIR)/pkgindex-import
	test -e $(DESTDIR)$(MODSDIR)/pkgindex.conf || \
	    install -D -m 644 conf/pkgindex.conf $(DESTDIR)$(MODSDIR)/pkgindex.conf

# What install put there; pkgindex.conf only while it is still the shipped one (an edited one
# stays). An enabled module would leave Apache unable to start: disable it first.
uninstall:
	@if [ -e $(DESTDIR)/etc/apache2/mods-enabled/pkgindex.load ] || \
	    [ -L $(DESTDIR)/etc/apache2/mods-enabled/pkgindex.load ]; then \
	    echo "uninstall: pkgindex is enabled: run 'a2dismod pkgindex' first" >&2; exit 1; fi
	rm -f $(DESTDIR)$(MODDIR)/mod_pkgindex.so $(DESTDIR)$(MODSDIR)/pkgindex.load \
	    $(DESTDIR)$(BINDIR)/pkgindex-import
	@if cmp -s conf/pkgindex.conf $(DESTDIR)$(MODSDIR)/pkgindex.conf; then \
	    rm -f $(DESTDIR)$(MODSDIR)/pkgindex.conf; \
	elif [ -e $(DESTDIR)$(MODSDIR)/pkgindex.conf ]; then \
	    echo "uninstall: kept $(DESTDIR)$(MODSDIR)/pkgindex.conf (differs from conf/pkgindex.conf)"; fi

clean:
	rm -rf $(B) $(FZ) build-asan bin/pkgindex-import
