#!/usr/bin/perl
# Sisimai (libsisimai-perl) over a folder of messages: one line per file,
# "NAME<TAB>hard|soft|none<TAB>ADDR,ADDR<TAB>REASON". With --time, only the
# count and the rate on stderr.
use strict;
use warnings;
use Sisimai::Mail;
use Sisimai::Message;
use Sisimai::Data;
use Time::HiRes qw(time);

my ($folder, $timing) = ($ARGV[0], grep { $_ eq '--time' } @ARGV);
opendir(my $dh, $folder) or die "cannot read $folder: $!";
my @names = sort grep { !/^\./ } readdir($dh);
closedir($dh);
my $start = time;
my @out;
for my $name (@names) {
    open(my $fh, '<:raw', "$folder/$name") or die "$name: $!";
    my $text = do { local $/; <$fh> };
    close($fh);
    my $msg = Sisimai::Message->new('data' => $text);
    my (%addr, $hard, $soft, %reason);
    if ($msg) {
        my $data = Sisimai::Data->make('data' => $msg) || [];
        for my $d (@$data) {
            next if $d->reason eq 'feedback' || $d->reason eq 'vacation';
            $addr{lc $d->recipient->address} = 1;
            $reason{$d->reason} = 1;
            if ($d->softbounce == 1) { $soft = 1 } else { $hard = 1 }
        }
    }
    my $kind = $hard ? 'hard' : $soft ? 'soft' : 'none';
    push @out, join("\t", $name, $kind, join(',', sort keys %addr),
                    join(',', sort keys %reason));
}
my $took = time - $start;
if ($timing) {
    printf STDERR "sisimai: %d messages in %.2f s, %.0f msgs/s\n",
        scalar @names, $took, @names / ($took || 1e-9);
} else {
    print "$_\n" for @out;
}
