#!/usr/bin/env perl
# Trunk post_build hook (Trunk.toml [[hooks]]): puts the page's wasm, built by scripts/split-build.sh (the pre_build
# hook) into $TARGET/page/, into Trunk's staging directory, and writes what loads it.
#
# - Every file gets a content hash in its name, `name-<16 hex>.ext` (the rule of crates/proxy/src/page.rs
#   `is_hashed_asset`), so both hostings cache it for a year: each part `split_NAME-<h>.wasm` / `chunk_N-<h>.wasm`
#   by its own bytes, and the main module's JS, its wasm and the loader `__wasm_split-<h>.js` by one hash of the
#   three (the JS imports the loader and the loader imports the JS: neither name can come from the other's bytes).
#   The references inside the JS and the loader are rewritten to the new names.
# - boot-<h>.js starts the page, loaded with <script type="module" src=… integrity=…>: no inline script, so the page
#   runs under one constant CSP, `script-src 'self' 'wasm-unsafe-eval'`, on every hosting (crates/proxy/src/page.rs).
#   Before it imports the main module it adds <link rel="preload"> for the parts the first screen will need at once:
#   the part after Consent (and the chunks it shares) when the address carries Kommo's return (`?code=` / `?error=`)
#   or the tab keeps one, the result part when the tab keeps tokens (a reload after the exchange),
#   the Russian strings when the page starts in Russian (stored choice, else the browser's language — the rule of
#   `Lang::from_tag`) — so they arrive with the main module instead of after it.
# - index.html gets the boot script, <link rel="modulepreload"> for the JS and the loader and <link rel="preload"> for
#   the main wasm, so the browser fetches all three while it parses.
# - Release builds then get brotli-11/gzip-9 copies (NAME.br, NAME.gz) of the hashed files (scripts/precompress.mjs)
#   for the proxy's --static mode; without Node.js the page still builds and the proxy compresses on the fly.
#
# Trunk sets TRUNK_STAGING_DIR (and TRUNK_PUBLIC_URL, TRUNK_PROFILE); by hand: perl scripts/post-build.pl DIR
#   perl scripts/post-build.pl --parts LOADER   prints each part and the files it fetches, one line each, from a
#                                                loader as it is (scripts/size.sh reads the built page's with it)
use strict;
use warnings;
use Digest::SHA qw(sha256_hex sha384_base64);
use File::Basename qw(dirname basename);
use File::Spec;

my $name = 'kommo-oauth-helper';

# Which files each split function of a loader fetches: itself and the chunks it needs, in the loader's own names.
# Each loader in __wasm_split.js: `const NAME = [wrapAsyncCb(]makeLoad(() => { … fetch(new URL("./FILE", …)) … }, [DEPS])`.
sub parts_of {
    my ($loader) = @_;
    my (%file_of, %deps_of, %needs);
    while ($loader =~ m{const\s+(\w+)\s*=\s*(?:wrapAsyncCb\()?makeLoad\(\(\)\s*=>\s*\{.*?new URL\("\./([^"]+)".*?\}\s*,\s*\[([^\]]*)\]\)}gs) {
        my ($var, $file, $deps) = ($1, $2, $3);
        $file_of{$var} = $file;
        $deps_of{$var} = [grep { length } map { s/\s+//gr } split /,/, $deps];
    }
    for my $var (sort keys %file_of) {
        next unless $var =~ /\A__wasm_split_load_(\w+)\z/;
        my ($part, @todo, %seen) = ($1, $var);
        while (my $v = shift @todo) {
            next if $seen{$v}++;
            push @{ $needs{$part} }, $file_of{$v} // fail("__wasm_split.js: $var needs $v, which it does not define");
            push @todo, @{ $deps_of{$v} };
        }
    }
    return \%needs;
}

if (@ARGV && $ARGV[0] eq '--parts') {
    my $needs = parts_of(slurp($ARGV[1] // fail('--parts needs the loader file')));
    print "$_ @{ $needs->{$_} }\n" for sort keys %$needs;
    exit 0;
}
my $root = dirname(dirname(File::Spec->rel2abs(__FILE__)));
my $dir = $ENV{TRUNK_STAGING_DIR} // shift // die "usage: $0 DIR (or run as a Trunk post_build hook)\n";
my $public = $ENV{TRUNK_PUBLIC_URL} // '/';
$public .= '/' unless $public =~ m{/\z};
my $page = ($ENV{CARGO_TARGET_DIR} ? File::Spec->rel2abs($ENV{CARGO_TARGET_DIR}, $root) : "$root/target") . '/page';

sub fail { die "post-build: @_\n" }
sub slurp {
    my ($path) = @_;
    open my $in, '<:raw', $path or fail "cannot read $path: $!";
    local $/;
    my $bytes = <$in>;
    close $in;
    return $bytes;
}
sub spit {
    my ($path, $bytes) = @_;
    open my $out, '>:raw', "$path.tmp" or fail "cannot write $path: $!";
    print $out $bytes;
    close $out or fail "cannot write $path: $!";
    rename "$path.tmp", $path or fail "cannot rename $path.tmp: $!";
}
sub hash16 { substr(sha256_hex(join "\0", @_), 0, 16) }
sub sri {
    my $b64 = sha384_base64($_[0]);
    $b64 .= '=' while length($b64) % 4;
    return "sha384-$b64";
}

-f "$page/$name.js" or fail "no $page/$name.js: scripts/split-build.sh (the pre_build hook) did not run or failed";
-e "$page/snippets" and fail "$page has wasm-bindgen snippets/, which this hook does not copy yet";
my $js = slurp("$page/$name.js");
my $wasm = slurp("$page/${name}_bg.wasm");
my $split = -f "$page/__wasm_split.js";

# The parts: their new names, and which files each split function fetches (itself and the chunks it shares).
my (%renamed, %needs);
my $loader = '';
if ($split) {
    $loader = slurp("$page/__wasm_split.js");
    opendir my $dh, $page or fail "cannot list $page: $!";
    for my $file (sort grep { /\.wasm\z/ && $_ ne "${name}_bg.wasm" } readdir $dh) {
        my $bytes = slurp("$page/$file");
        (my $stem = $file) =~ s/\.wasm\z//;
        my $new = "$stem-" . hash16($bytes) . '.wasm';
        $renamed{$file} = $new;
        spit("$dir/$new", $bytes);
    }
    closedir $dh;
    my $fetches = parts_of($loader);
    for my $part (keys %$fetches) {
        $needs{$part} = [map { $renamed{$_} // fail "__wasm_split.js fetches $_, which wasm-split-cli did not write" }
            @{ $fetches->{$part} }];
    }
    # A new splitter may write the loader differently: fail here rather than ship a page that fetches names that
    # do not exist.
    for my $part (qw(after result have_token russian)) {
        $needs{$part} or fail "__wasm_split.js has no loader for the part `$part` (src/views/later.rs, src/i18n/ru.rs)";
    }
    for my $file (keys %renamed) {
        my $n = $loader =~ s{"\./\Q$file\E"}{"./$renamed{$file}"}g;
        $n or fail "__wasm_split.js does not name $file";
    }
    $loader =~ s{(\bfrom\s*)"\./\Q$name\E\.js"}{$1"./\@MAIN\@"}g or fail "__wasm_split.js does not import ./$name.js";
    $js =~ s{(\bfrom\s*)"\./__wasm_split\.js"}{$1"./\@LOADER\@"}g or fail "$name.js does not import ./__wasm_split.js";
}

my $h = hash16($js, $loader, $wasm);
my ($main_js, $main_wasm, $loader_js) = ("$name-$h.js", "$name-${h}_bg.wasm", "__wasm_split-$h.js");
# wasm-bindgen's default wasm address (init() without one); the boot script passes it explicitly anyway.
$js =~ s{(['"])\Q${name}_bg.wasm\E\1}{$1$main_wasm$1}g;
$js =~ s{\@LOADER\@}{$loader_js}g;
$loader =~ s{\@MAIN\@}{$main_js}g;
spit("$dir/$main_js", $js);
spit("$dir/$main_wasm", $wasm);
spit("$dir/$loader_js", $loader) if $split;

my $preload_after = join ', ', map { "'$_'" } @{ $needs{after} // [] };
my $preload_result = join ', ', map { "'$_'" } @{ $needs{result} // [] };
my $preload_russian = join ', ', map { "'$_'" } @{ $needs{russian} // [] };
my $boot = <<"JS";
// Written by scripts/post-build.pl. Parts the first screen needs at once are fetched with the main module.
const base = '$public';
const asked = new Set();
function preload(files) {
  for (const file of files) {
    if (asked.has(file)) continue;
    asked.add(file);
    const link = document.createElement('link');
    link.rel = 'preload';
    link.as = 'fetch';
    link.crossOrigin = 'anonymous';
    link.href = base + file;
    document.head.append(link);
  }
}
// The page's own storage (src/storage.rs keys, namespace kommo-oauth-helper:): a return kept in this tab shows Return
// and Exchange at once, tokens kept show the result cards too.
const kept = (key) => { try { return sessionStorage.getItem('kommo-oauth-helper:' + key) !== null; } catch (_) { return false; } };
const tokens = kept('answer') || kept('later');
if (/[?&](code|error)=/.test(location.search) || kept('return') || tokens) preload([$preload_after]);
if (tokens) preload([$preload_result]);
let lang = null;
try { lang = localStorage.getItem('kommo-oauth-helper:lang'); } catch (_) {}
const primary = (navigator.language || '').split(/[-_]/)[0].toLowerCase();
if (lang ? lang === 'ru' : ['ru', 'be', 'uk', 'kk'].includes(primary)) preload([$preload_russian]);
try {
  const bindings = await import(base + '$main_js');
  const wasm = await bindings.default({ module_or_path: base + '$main_wasm' });
  window.wasmBindings = bindings;
  dispatchEvent(new CustomEvent('TrunkApplicationStarted', { detail: { wasm } }));
} catch (error) {
  // Not a blank page that never wakes up: say what to do (index.html's .boot-failed).
  document.querySelector('.boot-failed')?.removeAttribute('hidden');
  throw error;
}
JS
my $boot_name = 'boot-' . hash16($boot) . '.js';
spit("$dir/$boot_name", $boot);

my $index = "$dir/index.html";
my $html = slurp($index);
my $tags = qq{<link rel="modulepreload" href="$public$main_js" crossorigin="anonymous" integrity="} . sri($js) . qq{">}
    . ($split ? qq{<link rel="modulepreload" href="$public$loader_js" crossorigin="anonymous" integrity="} . sri($loader) . qq{">} : '')
    . qq{<link rel="preload" href="$public$main_wasm" as="fetch" type="application/wasm" crossorigin="anonymous">}
    . qq{<script type="module" src="$public$boot_name" integrity="} . sri($boot) . qq{"></script>};
$html =~ s{</head>}{$tags</head>}i or fail "no </head> in $index";
# Whatever inline script is there would be refused by the CSP: say so (Trunk's dev-server reload script is one,
# and `trunk serve` does not send our CSP, so only warn).
my $left = () = $html =~ m{<script(?![^>]*\bsrc=)[^>]*>\s*\S}gi;
print STDERR "post-build: warning: $left inline script(s) in $index; the page's CSP refuses them\n" if $left;
# Trunk leaves the skipped <link data-trunk rel="rust"> in the page: it does nothing there.
$html =~ s{<link\b[^>]*\bdata-trunk-skip\b[^>]*>}{}gi;
spit($index, $html);
print STDERR "post-build: wrote $boot_name, $main_js, $main_wasm"
    . ($split ? ", $loader_js, " . join(', ', sort values %renamed) : ' (one module, SPLIT=off)') . "\n";

if (($ENV{TRUNK_PROFILE} // 'release') eq 'release') {
    my $script = "$root/scripts/precompress.mjs";
    my $status = system('node', $script, $dir);
    if ($status == -1) {
        print STDERR "post-build: warning: cannot run node ($!): no precompressed .br/.gz files; "
            . "the proxy compresses on the fly\n";
    } elsif ($status != 0) {
        fail "node $script $dir failed";
    }
}
