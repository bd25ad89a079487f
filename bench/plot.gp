# The tutorial's plot from an `onnxpool bench` CSV: time per image (time_<name> / batch_size) against the
# batch size N, log y, one line per strategy. `onnxpool bench --plot PREFIX` runs the same script.
# Usage:
#   gnuplot -e "csv='bench/results/mobilenetv2.csv'; out='bench/results/mobilenetv2'; \
#               names='sequence parallel pool batched'; threads=2" bench/plot.gp
if (!exists("csv")) csv = 'bench/results/mobilenetv2.csv'
if (!exists("out")) out = 'plot'
if (!exists("names")) names = 'sequence parallel sequence_ortvalue parallel_ortvalue pool batched'
if (!exists("threads")) threads = 2

set datafile separator ','
set title sprintf('Time per image / batch size (n_threads=%d)', threads)
set xlabel 'batch size (N images)'
set ylabel 'seconds per image'
set logscale y
set grid
set key outside right
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 900,560 noenhanced } else { set terminal svg size 900,560 dynamic noenhanced }
  set output out.'.'.t
  plot for [s in names] csv using 'batch_size':(column('time_'.s)/column('batch_size')) with linespoints title s
}
unset output
