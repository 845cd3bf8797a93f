# ruptime: build, demo, test, install.
#   make demo      build, start ruptimed on 127.0.0.1 and ask it in every mode
#   make test      every test (as root the namespace and systemd tests run too)
#   make install   PREFIX=/usr/local DESTDIR=  binaries, systemd units, man pages, completions,
#                  the exporter's alert rules
#   make uninstall exactly what make install put there

PREFIX  ?= /usr/local
DESTDIR ?=
CARGO   ?= cargo
RELEASE := target/release
BINDIR  ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
UNITDIR ?= $(PREFIX)/lib/systemd/system
MANDIR  ?= $(PREFIX)/share/man
BASHDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHDIR ?= $(PREFIX)/share/fish/vendor_completions.d
RULESDIR ?= $(PREFIX)/share/ruptime/prometheus
# Where the binaries to install are; the default builds them first.
BINARIES ?= $(RELEASE)

UNITS    := ruptimed.service ruptimed.socket ruptimed-inetd.socket ruptimed-inetd@.service \
            ruptime-exporter.service ruptime-exporter.socket
DROPINS  := ruptimed.service.d ruptimed-inetd@.service.d ruptime-exporter.service.d
# Each program, where it goes, and its manual's section.
PROGRAMS := ruptime ruptimed ruptime-exporter
RULES    := ruptime/exporter/prometheus/ruptime.rules.yml
INSTALLED := $(BINDIR)/ruptime $(SBINDIR)/ruptimed $(BINDIR)/ruptime-exporter \
             $(addprefix $(UNITDIR)/,$(UNITS)) \
             $(addsuffix /hardening.conf,$(addprefix $(UNITDIR)/,$(DROPINS))) \
             $(MANDIR)/man1/ruptime.1 $(MANDIR)/man8/ruptimed.8 $(MANDIR)/man1/ruptime-exporter.1 \
             $(addprefix $(BASHDIR)/,$(PROGRAMS)) $(addprefix $(ZSHDIR)/_,$(PROGRAMS)) \
             $(addsuffix .fish,$(addprefix $(FISHDIR)/,$(PROGRAMS))) \
             $(RULESDIR)/ruptime.rules.yml

.PHONY: build demo deps test lint bench bench-fleet bench-exporter fuzz deb install uninstall clean

# The programs, without the fuzz targets' hooks (the fuzzing feature).
build:
	$(CARGO) build --release --workspace --exclude ruptime-fuzz --bins

# Start the daemon in the foreground on a free loopback port, ask it, stop it.
# As root the daemon serves as nobody (it would warn about root otherwise).
demo: $(if $(filter $(RELEASE),$(BINARIES)),build)
	@user=$$([ "$$(id -u)" = 0 ] && echo " --user nobody"); \
	for mode in stream fork dgram; do \
	  echo "\$$ ruptimed --foreground --mode $$mode --listen 127.0.0.1 --port 0$$user &"; \
	  $(BINARIES)/ruptimed --foreground --mode $$mode --listen 127.0.0.1 --port 0 $$user > .demo.out & pid=$$!; \
	  for i in $$(seq 100); do [ -s .demo.out ] && break; sleep 0.05; done; \
	  cat .demo.out; \
	  port=$$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\) .*/\1/p' .demo.out); \
	  echo "\$$ ruptime --mode $$mode --port $$port 127.0.0.1"; \
	  $(BINARIES)/ruptime --mode $$mode --port $$port 127.0.0.1; rc=$$?; \
	  kill $$pid; wait $$pid; rm -f .demo.out; [ $$rc = 0 ] || exit $$rc; \
	done

# What the tests and lint use beyond cargo, installed only when missing:
# rustfmt and clippy (rustup); as root, uptime (the differential tests), ip
# and unshare (namespaces), time zones, a decimal-comma locale, Prometheus,
# promtool, node_exporter and the Pushgateway (the exporter's tests),
# Alertmanager and amtool (the alert rules' test), curl (the packaged
# exporter's test).
DEBIAN_PACKAGES := procps iproute2 util-linux bsdutils time man-db tzdata locales systemd systemd-container dpkg-dev lintian \
                   prometheus prometheus-node-exporter prometheus-pushgateway prometheus-alertmanager curl nftables
deps:
	@for tool in rustfmt clippy; do \
	  cargo $${tool#rust} --version >/dev/null 2>&1 || rustup component add $$tool; \
	done
	@cargo deb --version >/dev/null 2>&1 || cargo install --locked cargo-deb
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ "$$(id -u)" != 0 ]; then \
	  [ -z "$$missing" ] || echo "make deps: missing $$missing; run as root to install them"; \
	else \
	  if [ -n "$$missing" ]; then \
	    apt-get update -qq || apt-get update -qq; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  fi; \
	  locale -a | grep -qx de_DE.utf8 || localedef -i de_DE -c -f UTF-8 de_DE.UTF-8; \
	fi

# Every test; the skips (none under CI=true, where a skip fails) listed last.
test: deps
	@rm -f target/test-skips.txt
	$(CARGO) test --workspace
	@if [ -s target/test-skips.txt ]; then \
	  echo "$$(sort -u target/test-skips.txt | wc -l) tests skipped:"; sort -u target/test-skips.txt; \
	else echo "0 tests skipped"; fi

# Twice: without the fuzz targets, so that nothing only their hooks use
# passes for used, then the fuzz targets with their hooks.
lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --exclude ruptime-fuzz --all-targets -- -D warnings
	$(CARGO) clippy -p ruptime-fuzz --all-targets -- -D warnings

# The Debian package, target/debian/ruptime-suite_VERSION-REVISION_amd64.deb, by
# cargo-deb (installed when missing) from the release binaries (stripped),
# with the units pointing at /usr/sbin, the man pages and the completions
# made here. DEB_REVISION=2 makes a later revision of the same version.
DEB_ASSETS := ruptimed/debian/generated
DEB_REVISION ?= 1
deb: build
	@cargo deb --version >/dev/null 2>&1 || cargo install --locked cargo-deb
	rm -rf $(DEB_ASSETS)
	mkdir -p $(DEB_ASSETS)/units $(DEB_ASSETS)/bash $(DEB_ASSETS)/zsh $(DEB_ASSETS)/fish
	for unit in $(UNITS); do \
	  sed -e 's|/usr/local/sbin/|/usr/sbin/|' -e 's|/usr/local/bin/|/usr/bin/|' \
	      systemd/$$unit > $(DEB_ASSETS)/units/$$unit; \
	done
	gzip -9n < ruptimed/debian/changelog > $(DEB_ASSETS)/changelog.Debian.gz
	$(RELEASE)/ruptime --generate man | gzip -9n > $(DEB_ASSETS)/ruptime.1.gz
	$(RELEASE)/ruptimed --generate man | gzip -9n > $(DEB_ASSETS)/ruptimed.8.gz
	$(RELEASE)/ruptime-exporter --generate man | gzip -9n > $(DEB_ASSETS)/ruptime-exporter.1.gz
	for p in $(PROGRAMS); do \
	  $(RELEASE)/$$p --generate bash > $(DEB_ASSETS)/bash/$$p && \
	  $(RELEASE)/$$p --generate zsh > $(DEB_ASSETS)/zsh/_$$p && \
	  $(RELEASE)/$$p --generate fish > $(DEB_ASSETS)/fish/$$p.fish || exit 1; \
	done
	cargo deb -p ruptimed --no-build --deb-revision $(DEB_REVISION)

# The binaries, the units (ExecStart pointing at SBINDIR and BINDIR) and their sandbox,
# the man pages and the bash, zsh and fish completions.
install: $(if $(filter $(RELEASE),$(BINARIES)),build)
	install -D -m 0755 $(BINARIES)/ruptime $(DESTDIR)$(BINDIR)/ruptime
	install -D -m 0755 $(BINARIES)/ruptime-exporter $(DESTDIR)$(BINDIR)/ruptime-exporter
	install -D -m 0755 $(BINARIES)/ruptimed $(DESTDIR)$(SBINDIR)/ruptimed
	install -D -m 0644 $(RULES) $(DESTDIR)$(RULESDIR)/ruptime.rules.yml
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	for unit in $(UNITS); do \
	  sed -e 's|/usr/local/sbin/|$(SBINDIR)/|' -e 's|/usr/local/bin/|$(BINDIR)/|' \
	      systemd/$$unit > $(DESTDIR)$(UNITDIR)/$$unit; \
	  chmod 0644 $(DESTDIR)$(UNITDIR)/$$unit; \
	done
	for dir in $(DROPINS); do \
	  install -D -m 0644 systemd/hardening.conf $(DESTDIR)$(UNITDIR)/$$dir/hardening.conf; \
	done
	install -d -m 0755 $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
	  $(DESTDIR)$(BASHDIR) $(DESTDIR)$(ZSHDIR) $(DESTDIR)$(FISHDIR)
	$(BINARIES)/ruptime --generate man > $(DESTDIR)$(MANDIR)/man1/ruptime.1
	$(BINARIES)/ruptimed --generate man > $(DESTDIR)$(MANDIR)/man8/ruptimed.8
	$(BINARIES)/ruptime-exporter --generate man > $(DESTDIR)$(MANDIR)/man1/ruptime-exporter.1
	for p in $(PROGRAMS); do \
	  $(BINARIES)/$$p --generate bash > $(DESTDIR)$(BASHDIR)/$$p && \
	  $(BINARIES)/$$p --generate zsh > $(DESTDIR)$(ZSHDIR)/_$$p && \
	  $(BINARIES)/$$p --generate fish > $(DESTDIR)$(FISHDIR)/$$p.fish || exit 1; \
	done
	chmod 0644 $(DESTDIR)$(MANDIR)/man1/ruptime.1 $(DESTDIR)$(MANDIR)/man8/ruptimed.8 \
	  $(DESTDIR)$(MANDIR)/man1/ruptime-exporter.1

# Exactly what install put there, and the drop-in directories it made.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	for dir in $(DROPINS); do rmdir $(DESTDIR)$(UNITDIR)/$$dir 2>/dev/null || true; done
	rmdir $(DESTDIR)$(RULESDIR) $(DESTDIR)$(dir $(RULESDIR)) 2>/dev/null || true

clean:
	$(CARGO) clean

# The benchmark table: every mode beside a reference responder, into BENCHMARKS.md.
bench: build
	$(RELEASE)/ruptime-bench table --out BENCHMARKS.md

# Whole fleets (12 500 mixed hosts, 100 000 live ones, the pace) in a
# test-made network namespace, into BENCHMARKS.md; as root.
bench-fleet: build
	$(RELEASE)/ruptime-bench fleets --out BENCHMARKS.md

# The exporter: probes a second at concurrency 32 beside blackbox_exporter
# (installed when missing), Prometheus scraping 1 000 hosts every 5 s, and
# two hashmod shards scraping 10 000 hosts every 15 s federated by a global
# Prometheus, in a test-made network namespace, into BENCHMARKS.md; as root.
bench-exporter: build
	@command -v prometheus-blackbox-exporter >/dev/null || \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus-blackbox-exporter
	$(RELEASE)/ruptime-bench exporter --out BENCHMARKS.md

# The parsers under AFL++ (cargo-afl, installed when missing), each target
# for FUZZ_SECONDS; a crash is copied into tests/fuzz/regressions, where the
# test regressions of package ruptime-fuzz runs it from then on, and fails
# the run. Instrumented builds go to target/afl, apart from the others.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := reply host_port host_list proc utmp guard
FUZZ_BIN := $(CURDIR)/target/afl/release/ruptime-fuzz
fuzz:
	@cargo afl --version >/dev/null 2>&1 || cargo install --locked cargo-afl
	@cargo afl config --build >/dev/null 2>&1 || true
	cargo afl build --release -p ruptime-fuzz --features afl --target-dir target/afl
	@cd tests/fuzz && failed=0; for t in $(FUZZ_TARGETS); do \
	  rm -rf out/$$t; mkdir -p out; \
	  AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_QUIET=1 \
	    cargo afl fuzz -V $(FUZZ_SECONDS) -i seeds/$$t -o out/$$t $(FUZZ_BIN) $$t \
	    > out-$$t.log 2>&1 || { echo "fuzz $$t: afl-fuzz failed:"; tail -5 out-$$t.log; exit 1; }; \
	  execs=$$(sed -n 's/^execs_done *: *//p' out/$$t/default/fuzzer_stats); \
	  crashes=$$(ls out/$$t/default/crashes 2>/dev/null | grep -c '^id:' || true); \
	  echo "fuzz $$t: $$execs runs in $(FUZZ_SECONDS) s, $$crashes crashes"; \
	  for c in out/$$t/default/crashes/id:*; do [ -e "$$c" ] && cp "$$c" regressions/$$t/ && failed=1; done; \
	  rm -f out-$$t.log; \
	done; [ $$failed = 0 ] || { echo "crashes kept in tests/fuzz/regressions: fix them"; exit 1; }
