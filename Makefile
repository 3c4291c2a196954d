# mod_pkgindex — build, run and test.
#   make run    install what is missing, build, create the sample database, serve on :8080
#   make test   install what is missing, build, run the unit and integration tests

APXS_INCLUDES := -I/usr/include/apache2 -I/usr/include/apr-1.0
CC       ?= gcc
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -fPIC -Wall -Wextra -Werror -Wno-unused-parameter \
            -DLINUX -D_REENTRANT -D_GNU_SOURCE $(APXS_INCLUDES) -Imod_pkgindex
LIBS     := -lapr-1 -laprutil-1 -ljson-c -lsqlite3

B := build

# The httpd-free core: plain C on APR and apr_dbd, shared by the module, the tools and the tests.
CORE_SRCS := buf jsonw tz query route negotiate links store search store_search render render_html \
             api cache parse import_scan import errlog
GLUE_SRCS := config mod_pkgindex
UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))

CORE_OBJS := $(CORE_SRCS:%=$(B)/%.o)
GLUE_OBJS := $(GLUE_SRCS:%=$(B)/%.o)
HEADERS   := $(wildcard mod_pkgindex/*.h)

PORT ?= 8080
DB   ?= var/pkgindex.sqlite3

.PHONY: all build deps deps-test run test unit integration format format-check install uninstall \
        bench soak clean

all: build
build: $(B)/mod_pkgindex.so bin/pkgindex-import

$(B)/%.o: mod_pkgindex/%.c $(HEADERS)
	@mkdir -p $(B)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/libpkicore.a: $(CORE_OBJS)
	ar rcs $@ $^

$(B)/mod_pkgindex.so: $(GLUE_OBJS) $(B)/libpkicore.a
	$(CC) -shared -o $@ $(GLUE_OBJS) $(B)/libpkicore.a $(LIBS)

# The importer links the same core; the schema is compiled in for --init.
$(B)/schema_sqlite.c: sql/schema-sqlite.sql
	@mkdir -p $(B)
	{ echo 'const char pki_schema_sqlite[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$$/\\n"/' $<; echo ';'; } > $@

bin/pkgindex-import: $(B)/import_main.o $(B)/schema_sqlite.o $(B)/libpkicore.a
	$(CC) -o $@ $(B)/import_main.o $(B)/schema_sqlite.o $(B)/libpkicore.a $(LIBS)

$(B)/schema_sqlite.o: $(B)/schema_sqlite.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(B)/libpkicore.a $(HEADERS)
	@mkdir -p $(B)/tests
	$(CC) $(CFLAGS) -Wno-unused-function -o $@ $< $(B)/libpkicore.a $(LIBS) -lcmocka

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

# Not part of `make test`: minutes of wrk runs and a million-package dataset (cached).
bench:
	@scripts/install-deps bench
	$(MAKE) build
	bench/run-bench --rss 1000000
	bench/run-bench --cache-size 0
	bench/callgrind-request id slug list deep grid root 304
	bench/search-bench

# Not part of `make test` either: a million mixed requests with the response cache on, then
# off, watching the httpd children's memory (SOAK_ARGS, e.g. --requests 100000).
soak:
	@scripts/install-deps bench
	$(MAKE) build
	bench/soak $(SOAK_ARGS)

format:
	clang-format -i mod_pkgindex/*.c mod_pkgindex/*.h tests/unit/*.c tests/unit/*.h

format-check:
	clang-format --dry-run -Werror mod_pkgindex/*.c mod_pkgindex/*.h tests/unit/*.c tests/unit/*.h

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
	rm -rf $(B) bin/pkgindex-import
