# kobangd -- build, install, regress, fuzz, bench.
#
# Sources are picked up per directory: common/*.c and privsep/*.c become
# static libraries, kobangd/*.c the daemon (main.c holds main(), the rest
# also goes into a library the tests link), kobanctl/*.c the control tool.
# regress/unit/test_*.c are Criterion suites, regress/fuzz/fuzz_*.c libFuzzer
# harnesses with a seed corpus in regress/fuzz/corpus/<name>/.

PREFIX ?=	/usr/local
SBINDIR ?=	$(PREFIX)/sbin
# The child images (kobangd-net, -scan, -dns): the parent runs them from
# here, or from beside itself (a build tree), see kobangd(8).
LIBEXECDIR ?=	$(PREFIX)/libexec/kobangd
MANDIR ?=	$(PREFIX)/share/man
SYSCONFDIR ?=	/etc/koban
STATEDIR ?=	/var/lib/koban
DESTDIR ?=
KOBANG_USER ?=	_kobang
# make install: the shipped default configuration (for comparison once
# the installed one is changed), the service file and where it goes
# (SERVICE: systemd, launchd, rc.d or none; by default after the system
# built on), and the owner of what is installed (root: uid and gid 0).
DATADIR ?=	$(PREFIX)/share/kobangd
SYSTEMDDIR ?=	$(PREFIX)/lib/systemd/system
LAUNCHDDIR ?=	/Library/LaunchDaemons
RCDIR ?=	/etc/rc.d
UNAME_S :=	$(shell uname -s)
SERVICE ?=	$(if $(filter Linux,$(UNAME_S)),systemd,$(if \
		$(filter Darwin,$(UNAME_S)),launchd,$(if \
		$(filter OpenBSD,$(UNAME_S)),rc.d,none)))
INSTALL_OWN ?=	-o 0 -g 0

B ?=		build
CC ?=		cc
SAN ?=
VERSION =	0.1.0

DEBPKGS =	build-essential pkg-config clang libclang-rt-14-dev libmd-dev \
		libtls-dev libyaml-dev libjsmn-dev libcriterion-dev \
		libsqlite3-dev libseccomp-dev libssl-dev openssl mandoc jq \
		procps passwd libc-ares-dev dnsmasq-base git debhelper \
		lintian tinyproxy libtss2-dev swtpm python3 python3-yaml

# The TPM 2.0 key store (kobangd.keyStore: tpm) on Linux, through the
# TSS2 ESYS; the TCTI module is loaded at run time by tss2-tctildr, in
# the parent only.  TPM=no builds without it.
TPM ?=		$(if $(filter Linux,$(UNAME_S)),yes,no)
PKGS =		libtls yaml-0.1 sqlite3 libseccomp libcrypto libcares libmd \
		$(if $(filter yes,$(TPM)),tss2-esys tss2-tctildr tss2-mu tss2-rc)
PKG_CFLAGS =	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS =	$(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARNINGS =	-Wall -Wextra -Werror -Wno-unused-parameter \
		-Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations \
		-Wshadow -Wpointer-arith -Wsign-compare -Wformat=2 \
		-Wformat-security -Wimplicit-fallthrough -Wvla
CPPFLAGS +=	-D_FORTIFY_SOURCE=2 -D_GNU_SOURCE -DKOBANGD_VERSION='"$(VERSION)"' \
		-DKOBANGD_LIBEXEC='"$(LIBEXECDIR)"' \
		-DOPENSSL_API_COMPAT=0x10100000L -DOPENSSL_SUPPRESS_DEPRECATED \
		-Icommon -Iprivsep -Ikobangd $(PKG_CFLAGS) \
		$(if $(filter yes,$(TPM)),-DKOBANGD_TPM)
# CFLAGS is the user's (optimisation, debug info); the flags the project
# insists on are in KCFLAGS, so "make CFLAGS=-O1" cannot drop -Werror or
# the sanitizers.
CFLAGS ?=	-O2 -g
KCFLAGS =	-std=c11 $(WARNINGS) -fstack-protector-strong \
		-fno-common -MMD -MP $(SAN)
LDFLAGS +=	$(SAN) -Wl,-z,relro,-z,now
LDLIBS +=	$(PKG_LIBS)

COMMON_SRCS =	$(sort $(wildcard common/*.c))
PRIVSEP_SRCS =	$(sort $(wildcard privsep/*.c))
DAEMON_SRCS =	$(sort $(filter-out kobangd/main.c kobangd/child_main.c,\
		$(wildcard kobangd/*.c)))
# One image per child role, linked --as-needed: each gets only the
# libraries its own code calls (net: libtls; scan: libyaml; dns: c-ares).
CHILDREN =	net scan dns
CHILD_BINS =	$(CHILDREN:%=$(B)/kobangd-%)
CHILD_OBJS =	$(CHILDREN:%=$(B)/obj/kobangd/child_main_%.o)
CTL_SRCS =	$(sort $(wildcard kobanctl/*.c))
UNIT_SRCS =	$(sort $(wildcard regress/unit/test_*.c))
FUZZ_SRCS =	$(sort $(wildcard regress/fuzz/fuzz_*.c))
BENCH_SRCS =	$(sort $(wildcard regress/bench/bench_*.c))
TOOL_SRCS =	$(sort $(wildcard regress/tools/*.c))

COMMON_OBJS =	$(COMMON_SRCS:%.c=$(B)/obj/%.o)
PRIVSEP_OBJS =	$(PRIVSEP_SRCS:%.c=$(B)/obj/%.o)
DAEMON_OBJS =	$(DAEMON_SRCS:%.c=$(B)/obj/%.o)
CTL_OBJS =	$(CTL_SRCS:%.c=$(B)/obj/%.o)
UNIT_BINS =	$(UNIT_SRCS:regress/unit/%.c=$(B)/regress/%)
BENCH_BINS =	$(BENCH_SRCS:regress/bench/%.c=$(B)/regress/%)
TOOL_BINS =	$(TOOL_SRCS:regress/tools/%.c=$(B)/regress/%)
FUZZ_NAMES =	$(FUZZ_SRCS:regress/fuzz/fuzz_%.c=%)

LIBS =		$(B)/libkobangd.a $(B)/libprivsep.a $(B)/libcommon.a

# Keep objects make thinks are intermediate (tests, tools).
.PRECIOUS: $(B)/obj/%.o

.PHONY: FORCE all deps user run install deb regress regress-unit regress-e2e \
	regress-fuzz regress-san regress-san-e2e fuzz crash bench clean

all: $(B)/kobangd $(B)/kobanctl $(CHILD_BINS)

# Objects depend on the flags they were built with: a sanitizer or
# warning change rebuilds everything instead of linking stale objects.
$(B)/.flags: FORCE
	$(shell mkdir -p $(B))$(file >$@.new,$(CC) $(CPPFLAGS) $(CFLAGS) $(KCFLAGS))
	@cmp -s $@.new $@ || mv $@.new $@; rm -f $@.new
FORCE:

$(B)/obj/%.o: %.c $(B)/.flags
	@mkdir -p $(@D)
	@echo "CC $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS) $(KCFLAGS) -c $< -o $@

$(B)/libcommon.a: $(COMMON_OBJS) $(B)/obj/gen/default_config.o
	rm -f $@; ar rcs $@ $^
$(B)/libprivsep.a: $(PRIVSEP_OBJS)
	rm -f $@; ar rcs $@ $^
$(B)/libkobangd.a: $(DAEMON_OBJS)
	rm -f $@; ar rcs $@ $^

# etc/kobangd.yaml compiled in as the built-in defaults (common/config.c).
$(B)/gen/default_config.c: etc/kobangd.yaml
	@mkdir -p $(@D)
	@{ echo '/* Generated from etc/kobangd.yaml by make; do not edit. */'; \
	    echo '#include "config_priv.h"'; \
	    echo 'const char kobang_default_yaml[] ='; \
	    od -An -v -tx1 etc/kobangd.yaml | sed -e 's/^ *//' -e 's/ *$$//' \
	    -e 's/ /\\x/g' -e 's/^/"\\x/' -e 's/$$/"/'; \
	    echo ';'; \
	    echo 'const size_t kobang_default_yaml_len ='; \
	    echo '    sizeof(kobang_default_yaml) - 1;'; } >$@.tmp && mv $@.tmp $@
$(B)/obj/gen/default_config.o: $(B)/gen/default_config.c $(B)/.flags
	@mkdir -p $(@D)
	@echo "CC $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS) $(KCFLAGS) -c $< -o $@

$(B)/kobangd: $(B)/obj/kobangd/main.o $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS)
# Static patterns: a plain pattern would let make chain its built-in
# "%: %.o" onto the included .d files.
$(CHILD_OBJS): $(B)/obj/kobangd/child_main_%.o: kobangd/child_main.c \
    $(B)/.flags
	@mkdir -p $(@D)
	@echo "CC $< ($*)"
	@$(CC) $(CPPFLAGS) -DKOBANGD_CHILD=$* $(CFLAGS) $(KCFLAGS) -c $< -o $@
$(CHILD_BINS): $(B)/kobangd-%: $(B)/obj/kobangd/child_main_%.o $(LIBS)
	$(CC) $(LDFLAGS) -Wl,--as-needed -o $@ $< $(LIBS) $(LDLIBS)
$(B)/kobanctl: $(CTL_OBJS) $(B)/libprivsep.a $(B)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $(CTL_OBJS) $(B)/libprivsep.a $(B)/libcommon.a $(LDLIBS)

# Unit tests link the daemon's own code directly.
$(B)/regress/test_%: $(B)/obj/regress/unit/test_%.o $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS) -lcriterion
$(B)/regress/bench_%: $(B)/obj/regress/bench/bench_%.o $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS)
$(B)/regress/%: $(B)/obj/regress/tools/%.o $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS)

# Install the Debian packages the build and the tests need, when missing.
deps:
	@missing=""; for p in $(DEBPKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
		    grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive \
		    apt-get install -y --no-install-recommends $$missing || \
		    exit 1; \
		case " $$missing " in *" tinyproxy "*) \
			echo "tinyproxy: the system service stays off (the" \
			    "tests start their own)"; \
			systemctl disable --now tinyproxy 2>/dev/null || \
			    invoke-rc.d tinyproxy stop 2>/dev/null || :; \
			update-rc.d tinyproxy disable 2>/dev/null || :;; \
		esac; \
	fi

# The unprivileged user the children run as.
user:
	@getent passwd $(KOBANG_USER) >/dev/null || \
	    useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin --user-group $(KOBANG_USER)

# Build and run the agent in the foreground on its built-in defaults.
run: deps
	$(MAKE) all
	$(MAKE) user
	$(B)/kobangd -d

# Binaries, manual pages, the default configuration (an existing one is
# the operator's and never overwritten), the state directory (root only,
# 0700), the service file with SBINDIR filled in, and the unprivileged
# user when installing onto this system (DESTDIR empty).
install: all
	install -d -m 755 $(INSTALL_OWN) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(LIBEXECDIR) \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(DATADIR) $(DESTDIR)$(SYSCONFDIR)
	install -m 555 $(INSTALL_OWN) $(B)/kobangd $(B)/kobanctl \
	    $(DESTDIR)$(SBINDIR)/
	install -m 555 $(INSTALL_OWN) $(CHILD_BINS) $(DESTDIR)$(LIBEXECDIR)/
	install -m 444 $(INSTALL_OWN) kobangd/kobangd.8 kobanctl/kobanctl.8 \
	    $(DESTDIR)$(MANDIR)/man8/
	install -m 444 $(INSTALL_OWN) kobangd/kobangd.yaml.5 \
	    $(DESTDIR)$(MANDIR)/man5/
	install -m 444 $(INSTALL_OWN) etc/kobangd.yaml $(DESTDIR)$(DATADIR)/
	install -d -m 700 $(INSTALL_OWN) $(DESTDIR)$(STATEDIR)
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/kobangd.yaml ]; then \
		echo "$(DESTDIR)$(SYSCONFDIR)/kobangd.yaml exists, left as" \
		    "it is (the default: $(DATADIR)/kobangd.yaml)"; \
	else \
		echo "install -m 600 etc/kobangd.yaml" \
		    "$(DESTDIR)$(SYSCONFDIR)/"; \
		install -m 600 $(INSTALL_OWN) etc/kobangd.yaml \
		    $(DESTDIR)$(SYSCONFDIR)/; \
	fi
	@case "$(SERVICE)" in \
	systemd) d=$(SYSTEMDDIR) f=kobangd.service m=644;; \
	launchd) d=$(LAUNCHDDIR) f=com.koban.kobangd.plist m=644;; \
	rc.d) d=$(RCDIR) f=kobangd m=555;; \
	none) exit 0;; \
	*) echo "SERVICE must be systemd, launchd, rc.d or none" >&2; \
	    exit 1;; \
	esac; \
	s=etc/$$f; [ "$$f" = kobangd ] && s=etc/kobangd.rc; \
	echo "install -m $$m $$s $(DESTDIR)$$d/$$f"; \
	sed 's|/usr/local/sbin/kobangd|$(SBINDIR)/kobangd|g' $$s \
	    >$(B)/$$f.service && \
	install -d -m 755 $(INSTALL_OWN) $(DESTDIR)$$d && \
	install -m $$m $(INSTALL_OWN) $(B)/$$f.service $(DESTDIR)$$d/$$f && \
	rm -f $(B)/$$f.service
	@if [ -z "$(DESTDIR)" ]; then $(MAKE) user; fi

# The Debian package kobangd_$(DEB_VERSION)_<arch>.deb in $(B), built by
# dpkg-buildpackage (debhelper) from a copy of the sources in $(B)/deb,
# where etc/debian becomes debian/ and the changelog names DEB_VERSION.
DEB_VERSION ?=	$(VERSION)
DEB_SRCS =	Makefile README common privsep kobangd kobanctl
DEB_TREE =	$(B)/deb/kobangd-$(DEB_VERSION)
deb:
	rm -rf $(B)/deb
	mkdir -p $(DEB_TREE)/etc
	cp -R $(DEB_SRCS) $(DEB_TREE)/
	cp etc/*.* $(DEB_TREE)/etc/
	cp -R etc/debian $(DEB_TREE)/debian
	@d=$$(git log -1 --format=%aD 2>/dev/null || date -R); \
	printf '%s\n\n  * %s\n\n -- %s  %s\n' \
	    "kobangd ($(DEB_VERSION)) unstable; urgency=medium" \
	    "kobangd $(DEB_VERSION)." \
	    "Koban <kobangd@example.invalid>" "$$d" \
	    >$(DEB_TREE)/debian/changelog
	cd $(DEB_TREE) && dpkg-buildpackage -b -us -uc
	cp $(B)/deb/kobangd_$(DEB_VERSION)_*.deb $(B)/
	@ls $(B)/kobangd_$(DEB_VERSION)_*.deb

regress: deps
	$(MAKE) regress-unit
	$(MAKE) regress-e2e
	$(MAKE) regress-fuzz

regress-unit: $(UNIT_BINS)
	@sh regress/run-unit.sh $(UNIT_BINS)

regress-e2e: all $(TOOL_BINS)
	@$(MAKE) -s user
	@B=$(abspath $(B)) sh regress/run-e2e.sh

# Each harness runs briefly here; 'make fuzz' runs them longer.
FUZZ_SECONDS ?=	10
FUZZ_SEED ?=	1
FUZZ_B =	build-fuzz
regress-fuzz:
	@for n in $(FUZZ_NAMES); do \
		$(MAKE) -s B=$(FUZZ_B) CC=clang \
		    SAN="-fsanitize=fuzzer-no-link,address,undefined" \
		    $(FUZZ_B)/fuzz/fuzz_$$n || exit 1; \
		FUZZ_SEED=$(FUZZ_SEED) sh regress/run-fuzz.sh $(FUZZ_B)/fuzz/fuzz_$$n \
		    regress/fuzz/corpus/$$n $(FUZZ_SECONDS) || exit 1; \
	done

fuzz:
	$(MAKE) regress-fuzz FUZZ_SECONDS=300 FUZZ_SEED=

# The crash test with more kills than make regress gives it.
CRASH_KILLS ?=	2000
crash: all $(TOOL_BINS)
	@$(MAKE) -s user
	B=$(abspath $(B)) CRASH_KILLS=$(CRASH_KILLS) sh regress/e2e/t_fleet_crash.sh

$(FUZZ_B)/fuzz/fuzz_%: regress/fuzz/fuzz_%.c $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(KCFLAGS) -fsanitize=fuzzer -o $@ $< $(LIBS) \
	    $(LDLIBS)

# Unit tests again under AddressSanitizer and UndefinedBehaviorSanitizer.
# Under the sanitizers: every unit test, then the daemon itself in the
# end-to-end tests that drive the most of it (the sensor on hostile and
# real-world files, reload, sync, the remote configuration, the TPM key
# store, and the parent attacked by its own children); a sanitizer report
# in a daemon's log fails its test.
SAN_E2E =	t_sensor t_sensor_hostile t_surfaces_agents t_surfaces_packages \
		t_homesignal t_reload t_fleet_sync t_fleet_config t_fleet_tpm \
		t_privsep_hostile_child

regress-san: deps
	$(MAKE) B=build-san CC=clang \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	    CFLAGS="-O1 -g" regress-unit regress-san-e2e

regress-san-e2e: all $(TOOL_BINS)
	@$(MAKE) -s user
	@B=$(abspath $(B)) SAN_LOGS=$(abspath $(B))/san-logs \
	    sh regress/run-e2e.sh $(SAN_E2E)

bench: all $(BENCH_BINS) $(TOOL_BINS)
	@B=$(abspath $(B)) sh regress/run-bench.sh $(BENCH_BINS)

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(B) -name '*.d' 2>/dev/null)
