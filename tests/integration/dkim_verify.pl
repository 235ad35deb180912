#!/usr/bin/perl
# Verifies a message's DKIM signatures with Mail::DKIM (an implementation
# independent of libopendkim and of Python's dkim), answering DNS from a
# zone file instead of the network.
#
#   perl dkim_verify.pl ZONE-FILE < message.eml
#
# ZONE-FILE holds lines as 'bulletin dkim show' prints them:
#   NAME. IN TXT ( "text" "more text" )
# Prints one line per signature, "RESULT a=ALGORITHM s=SELECTOR d=DOMAIN
# DETAIL", then "overall RESULT". Exit status 0 when the script ran.
#
# Debian 12's Mail::DKIM (1.20230212) predates its ed25519-sha256
# support, so this script adds RFC 8463 the way later releases do:
# Mail::DKIM still canonicalizes and hashes, CryptX (libtomcrypt, neither
# OpenSSL nor libsodium) checks the Ed25519 signature of the SHA-256
# header hash.
use strict;
use warnings;

use Crypt::PK::Ed25519;
use MIME::Base64;
use Mail::DKIM::Verifier;
use Net::DNS;

package Ed25519Sha256;
use base 'Mail::DKIM::Algorithm::rsa_sha256';	# SHA-256 digests

sub verify {
	my ($self) = @_;
	my $key = Crypt::PK::Ed25519->new;
	$key->import_key_raw(
		MIME::Base64::decode_base64($self->signature->get_public_key->data),
		'public');
	return unless $key->verify_message(
		MIME::Base64::decode_base64($self->signature->data),
		$self->{header_digest}->digest);
	return $self->check_body_hash;
}

# Stands in for the OpenSSL key object, which the verifier asks only
# for its size (to refuse short RSA keys).
package Ed25519Size;
sub size { return 32 }

package main;

{
	no warnings 'redefine';
	my $class = \&Mail::DKIM::Signature::get_algorithm_class;
	my $hash = \&Mail::DKIM::Signature::hash_algorithm;
	my $check = \&Mail::DKIM::PublicKey::check;

	*Mail::DKIM::Signature::get_algorithm_class = sub {
		return $_[1] eq 'ed25519-sha256' ? 'Ed25519Sha256' : $class->(@_);
	};
	*Mail::DKIM::Signature::hash_algorithm = sub {
		return $_[0]->algorithm eq 'ed25519-sha256' ? 'sha256' : $hash->(@_);
	};
	# An Ed25519 record: p= is the 32-byte public key itself.
	*Mail::DKIM::PublicKey::check = sub {
		my ($key) = @_;
		return $check->(@_) unless ($key->get_tag('k') // '') eq 'ed25519';
		die "unsupported version\n" if ($key->get_tag('v') // 'DKIM1') ne 'DKIM1';
		die "invalid data\n"
			unless length(MIME::Base64::decode_base64($key->data // '')) == 32;
		$key->cork(bless {}, 'Ed25519Size');
		return 1;
	};
}

package ZoneResolver;

# A Net::DNS::Resolver look-alike: send(NAME, TYPE) returns a packet with
# the zone's TXT record for NAME, or an NXDOMAIN one.
sub new {
	my ($class, $zone) = @_;
	return bless { zone => $zone, error => 'NOERROR' }, $class;
}

sub send {
	my ($self, $name, $type) = @_;
	my $packet = Net::DNS::Packet->new($name, $type);
	my $txt = $self->{zone}{lc $name};
	if ($txt && uc $type eq 'TXT') {
		$packet->push(answer => Net::DNS::RR->new(
			name => $name, type => 'TXT', txtdata => $txt));
	} else {
		$packet->header->rcode('NXDOMAIN');
	}
	return $packet;
}

sub errorstring { return $_[0]{error} }

package main;

sub read_zone {
	my ($path) = @_;
	open(my $fh, '<', $path) or die "cannot open $path: $!\n";
	local $/;
	my $text = <$fh>;
	my %zone;
	while ($text =~ /^(\S+?)\.?\s+IN\s+TXT\s+\((.*?)\)/msg) {
		my ($name, $body) = (lc $1, $2);
		$zone{$name} = [ $body =~ /"([^"]*)"/g ];
	}
	return \%zone;
}

my $zone = read_zone($ARGV[0] // die "usage: $0 ZONE-FILE < MESSAGE\n");
Mail::DKIM::DNS::resolver(ZoneResolver->new($zone));

binmode STDIN;
my $dkim = Mail::DKIM::Verifier->new();
while (my $line = <STDIN>) {
	$line =~ s/\r?\n\z/\r\n/;
	$dkim->PRINT($line);
}
$dkim->CLOSE;

foreach my $sig ($dkim->signatures) {
	printf "%s a=%s s=%s d=%s %s\n", $sig->result, $sig->algorithm,
		$sig->selector, $sig->domain, $sig->result_detail;
}
printf "overall %s\n", $dkim->result;
