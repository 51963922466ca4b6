#!/usr/bin/env perl
# Trunk post_build hook (Trunk.toml [[hooks]]): moves the inline <script type="module"> that Trunk writes into
# index.html to start the wasm into a file of its own, boot-<16 hex of its SHA-256>.js, loaded with
# <script type="module" src=… integrity=…>. With no inline script left the page runs under one constant
# Content-Security-Policy, `script-src 'self' 'wasm-unsafe-eval'`, on every hosting: the proxy's --static mode and
# vercel.json send the same header (crates/proxy/src/page.rs), and no per-build hash has to be copied anywhere.
# The name carries a content hash like Trunk's own files, so it is cached for a year like them.
#
#
# Then, for release builds, it runs scripts/precompress.mjs (Node.js): NAME.br and NAME.gz next to every hashed file,
# served by the proxy's --static mode (here, because Trunk runs the hooks of one stage at the same time and boot-*.js
# must exist first). Without Node.js the page still builds; the proxy then compresses on the fly.
#
# Trunk sets TRUNK_STAGING_DIR (and TRUNK_PUBLIC_URL, TRUNK_PROFILE); by hand: perl scripts/externalize-loader.pl DIR
use strict;
use warnings;
use Digest::SHA qw(sha256_hex sha384_base64);
use File::Basename qw(dirname);
use File::Spec;

my $dir = $ENV{TRUNK_STAGING_DIR} // shift // die "usage: $0 DIR (or run as a Trunk post_build hook)\n";
my $public = $ENV{TRUNK_PUBLIC_URL} // '/';
$public .= '/' unless $public =~ m{/\z};
my $index = "$dir/index.html";

open my $in, '<:raw', $index or die "externalize-loader: cannot read $index: $!\n";
my $html = do { local $/; <$in> };
close $in;

my @written;
# Trunk's release minification (Trunk.toml) writes the attribute unquoted: type=module.
$html =~ s{<script\s+type=(?:"module"|module)(?:\s+nonce=(?:"[^"]*"|[^\s>]*))?\s*>(.*?)</script>}{
    my $code = $1;
    my $name = 'boot-' . substr(sha256_hex($code), 0, 16) . '.js';
    my $sri = sha384_base64($code);
    $sri .= '=' while length($sri) % 4;
    open my $out, '>:raw', "$dir/$name" or die "externalize-loader: cannot write $dir/$name: $!\n";
    print $out $code;
    close $out or die "externalize-loader: cannot write $dir/$name: $!\n";
    push @written, $name;
    qq{<script type="module" src="$public$name" integrity="sha384-$sri"></script>};
}gse;

sub precompress {
    return if ($ENV{TRUNK_PROFILE} // 'release') ne 'release';
    my $script = File::Spec->catfile(dirname(File::Spec->rel2abs(__FILE__)), 'precompress.mjs');
    my $status = system('node', $script, $dir);
    if ($status == -1) {
        print STDERR "externalize-loader: warning: cannot run node ($!): no precompressed .br/.gz files; "
            . "the proxy compresses on the fly\n";
    } elsif ($status != 0) {
        die "externalize-loader: node $script $dir failed\n";
    }
}

if (!@written) {
    print STDERR "externalize-loader: no inline module script in $index (nothing to move)\n";
    precompress();
    exit 0;
}

# Whatever inline script is left would be refused by the CSP: say so (Trunk's dev-server reload script is one,
# and `trunk serve` does not send our CSP, so only warn).
my $left = () = $html =~ m{<script(?![^>]*\bsrc=)[^>]*>\s*\S}gi;
print STDERR "externalize-loader: warning: $left inline script(s) left in $index; the page's CSP refuses them\n"
    if $left;

open my $out, '>:raw', $index or die "externalize-loader: cannot write $index: $!\n";
print $out $html;
close $out or die "externalize-loader: cannot write $index: $!\n";
print STDERR "externalize-loader: moved the wasm loader into @written\n";
precompress();
