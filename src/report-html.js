/*
 * report-html.js: draws the charts of a migtest HTML report with Chart.js
 * from the JSON embedded in the page (<script id="migtest-data">), then
 * checks its own work and writes the result on <body>:
 *   data-charts-total   <canvas> elements on the page
 *   data-charts-drawn   charts created
 *   data-charts-ok      charts whose plot area holds pixels of their own
 *                       series colours (a chart with no data has none)
 *   data-numbers-checked / data-numbers-bad
 *                       summary-table cells compared with the JSON
 *   data-js-errors      uncaught errors
 *   data-render-ms      time spent here
 * Charts are drawn when their case is opened; "#render-all" in the URL
 * opens and draws every one (tests, full-page screenshots).
 */
(function () {
    'use strict';
    var body = document.body;
    var errors = 0;
    window.addEventListener('error', function () {
        errors++;
        body.dataset.jsErrors = String(errors);
    });
    body.dataset.jsErrors = '0';

    var t0 = performance.now();
    /* The notice for pages whose scripts are blocked (a <noscript> would
     * not show when a Content-Security-Policy blocks them). */
    document.getElementById('no-js').remove();
    var runs = JSON.parse(document.getElementById('migtest-data').textContent);
    var MiB = 1024 * 1024;
    var PAGE = 4096;                // QEMU's dirty-pages-rate counts target pages
    var RUN_COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2'];
    var SERIES = {                  // one run: a colour per series
        transferred: '#1f77b4', remaining: '#ff7f0e', throughput: '#2ca02c',
        dirty: '#9467bd', throttle: '#d62728', syncs: '#7f7f7f', requests: '#17becf'
    };
    var DASH = { remaining: [6, 3], dirty: [6, 3], syncs: [6, 3], requests: [2, 2] };
    /* A case run k times (--repeat) is "NAME", "NAME #2", ... as in C. */
    var byName = runs.map(function (run) {
        var m = {};
        (run.report.cases || []).forEach(function (c) {
            var key = c.name;
            for (var k = 2; m[key] !== undefined; k++)
                key = c.name + ' #' + k;
            m[key] = c;
        });
        return m;
    });
    var charts = [];

    function colour(run, series) {
        return runs.length > 1 ? RUN_COLOURS[run % RUN_COLOURS.length] : SERIES[series];
    }

    function label(run, text) {
        return runs.length > 1 ? runs[run].label + ': ' + text : text;
    }

    function line(run, series, text, points, extra) {
        var ds = {
            label: label(run, text), data: points, parsing: false,
            borderColor: colour(run, series), backgroundColor: colour(run, series),
            borderWidth: 2, borderDash: DASH[series] || [],
            pointRadius: points.length < 3 ? 3 : 0, tension: 0
        };
        Object.keys(extra || {}).forEach(function (k) { ds[k] = extra[k]; });
        return ds;
    }

    function series(c, f) {
        return ((c.metrics || {}).samples || []).map(function (s) {
            return { x: s.t_ms / 1000, y: f(s) };
        });
    }

    function completedAt(c) {
        var ev = ((c.metrics || {}).events || []).filter(function (e) {
            return e.status === 'completed';
        });
        return ev.length ? ev[0].t_ms : null;
    }

    /* Lines and bands for one run of one case, on every timeline. */
    function marks(run, c) {
        var m = c.metrics || {}, out = { lines: [], bands: [] }, col = colour(run, 'transferred');
        (m.events || []).forEach(function (e) {
            out.lines.push({ x: e.t_ms / 1000, colour: col, dash: e.status ? [5, 3] : [1, 3],
                             text: e.status || '' });
        });
        var done = completedAt(c);
        if (done !== null && m.downtime_ms > 0)
            out.bands.push({ from: (done - m.downtime_ms) / 1000, to: done / 1000,
                             fill: 'rgba(255,127,14,0.25)' });
        var gap = m.heartbeat_gap, red = 'rgba(214,39,40,0.22)';
        /* The gap less migtest's hold is what the guest is said to have
         * observed: red on either side of the grey hold. */
        if (gap && gap.hold_start_ms !== undefined) {
            out.bands.push({ from: gap.start_ms / 1000, to: gap.hold_start_ms / 1000, fill: red });
            out.bands.push({ from: gap.hold_start_ms / 1000, to: gap.hold_end_ms / 1000,
                             fill: 'rgba(120,120,120,0.22)' });
            out.bands.push({ from: gap.hold_end_ms / 1000, to: gap.end_ms / 1000, fill: red });
        } else if (gap) {
            out.bands.push({ from: gap.start_ms / 1000, to: gap.end_ms / 1000, fill: red });
        }
        return out;
    }

    /* Our own plugin (Chart.js 3 has no annotations without a plugin
     * Debian 12 does not package): bands and vertical lines. */
    var markPlugin = {
        id: 'mtMarks',
        beforeDatasetsDraw: function (chart, args, opts) {
            var ctx = chart.ctx, a = chart.chartArea, x = chart.scales.x;
            if (!opts || !opts.sets)
                return;
            ctx.save();
            ctx.beginPath();
            ctx.rect(a.left, a.top, a.right - a.left, a.bottom - a.top);
            ctx.clip();
            /* One run: bands span the plot; several: a strip per run along
             * the top, so that the runs' bands do not cover each other. */
            var strips = opts.sets.length > 1;
            opts.sets.forEach(function (set, i) {
                var top = strips ? a.top + i * 9 : a.top;
                var height = strips ? 7 : a.bottom - a.top;
                set.bands.forEach(function (b) {
                    if (!(b.to > b.from))
                        return;
                    var l = x.getPixelForValue(b.from), r = x.getPixelForValue(b.to);
                    ctx.fillStyle = strips ? b.fill.replace(/[0-9.]+\)$/, '0.8)') : b.fill;
                    ctx.fillRect(l, top, Math.max(r - l, 2), height);
                });
                set.lines.forEach(function (m) {
                    var px = x.getPixelForValue(m.x);
                    ctx.strokeStyle = m.colour;
                    ctx.globalAlpha = 0.6;
                    ctx.lineWidth = 1;
                    ctx.setLineDash(m.dash);
                    ctx.beginPath();
                    ctx.moveTo(px, a.top);
                    ctx.lineTo(px, a.bottom);
                    ctx.stroke();
                    if (opts.labels && m.text) {
                        ctx.globalAlpha = 0.9;
                        ctx.fillStyle = '#333';
                        ctx.font = '10px sans-serif';
                        ctx.fillText(m.text, px + 2, a.top + 10);
                    }
                    ctx.globalAlpha = 1;
                });
            });
            ctx.restore();
        }
    };

    /* The x range covers samples, events and bands of every run. */
    function xMax(cases) {
        var max = 0;
        cases.forEach(function (e) {
            var m = e.c.metrics || {};
            (m.samples || []).concat(m.events || []).forEach(function (s) {
                max = Math.max(max, s.t_ms);
            });
            if (m.heartbeat_gap)
                max = Math.max(max, m.heartbeat_gap.end_ms, m.heartbeat_gap.hold_end_ms || 0);
        });
        return max / 1000 * 1.02 + 0.01;
    }

    function timelineDatasets(kind, run, c) {
        if (kind === 'bytes')
            return [line(run, 'transferred', 'transferred MiB', series(c, function (s) {
                        return s.transferred / MiB; })),
                    line(run, 'remaining', 'remaining MiB', series(c, function (s) {
                        return s.remaining / MiB; }))];
        if (kind === 'rates')
            return [line(run, 'throughput', 'throughput MiB/s', series(c, function (s) {
                        return s.mbps * 1e6 / 8 / MiB; })),
                    line(run, 'dirty', 'QEMU dirty rate MiB/s (per pass)', series(c, function (s) {
                        return s.dirty_pages_rate * PAGE / MiB; }), { stepped: true })];
        var ds = [line(run, 'throttle', 'CPU throttle %', series(c, function (s) {
                      return s.cpu_throttle_percentage; }), { stepped: true }),
                  line(run, 'syncs', 'dirty syncs', series(c, function (s) {
                      return s.dirty_sync_count; }), { stepped: true, yAxisID: 'y2' })];
        var req = series(c, function (s) { return s.postcopy_requests || 0; });
        if (req.some(function (p) { return p.y > 0; }))
            ds.push(line(run, 'requests', 'postcopy requests', req, { yAxisID: 'y2' }));
        return ds;
    }

    var Y_TITLES = { bytes: 'MiB', rates: 'MiB/s', control: 'throttle %' };

    function timeline(canvas, kind, name) {
        var cases = [], datasets = [], sets = [];
        byName.forEach(function (m, run) {
            if (m[name] && ((m[name].metrics || {}).samples || []).length)
                cases.push({ run: run, c: m[name] });
        });
        cases.forEach(function (e) {
            datasets = datasets.concat(timelineDatasets(kind, e.run, e.c));
            sets.push(marks(e.run, e.c));
        });
        var scales = {
            x: { type: 'linear', min: 0, max: xMax(cases), title: { display: true, text: 's' } },
            y: { beginAtZero: true, title: { display: true, text: Y_TITLES[kind] } }
        };
        if (kind === 'control') {
            scales.y.suggestedMax = 100;
            scales.y2 = { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false },
                          title: { display: true, text: 'count' }, ticks: { precision: 0 } };
        }
        return new Chart(canvas, {
            type: 'line', data: { datasets: datasets }, plugins: [markPlugin],
            options: {
                animation: false, responsive: true, maintainAspectRatio: false,
                interaction: { mode: 'nearest', axis: 'x', intersect: false },
                scales: scales,
                plugins: { mtMarks: { sets: [], later: sets, labels: kind === 'bytes' },
                           legend: { labels: { boxWidth: 12, font: { size: 11 } } } }
            }
        });
    }

    function caseNames() {
        var names = [];
        document.querySelectorAll('tr[data-case]').forEach(function (tr) {
            var a = tr.querySelector('a');
            if (names.indexOf(a.textContent) < 0)
                names.push(a.textContent);
        });
        return names;
    }

    var X_TITLES = { downtime: 'ms', time: 'ms', sent: 'MiB' };
    var BAR_TITLES = { downtime: 'Downtime: reported by QEMU, and observed by the guest',
                       time: 'Total migration time', sent: 'Bytes sent' };

    /* Summary bars: one row per case that migrated, one bar per run. */
    function bars(canvas, kind) {
        var names = caseNames().filter(function (n) {
            return byName.some(function (m) {
                return m[n] && ((m[n].metrics || {}).total_ms || 0) > 0;
            });
        });
        var datasets = [];
        byName.forEach(function (m, run) {
            var col = RUN_COLOURS[run % RUN_COLOURS.length];
            function get(f) { return names.map(function (n) {
                return m[n] && m[n].metrics ? f(m[n].metrics) : null; }); }
            if (kind === 'downtime') {
                datasets.push({ label: label(run, 'QEMU downtime ms'), backgroundColor: col,
                                data: get(function (x) { return x.downtime_ms; }) });
                datasets.push({ label: label(run, 'observed downtime ms'),
                                backgroundColor: col + '80', borderColor: col, borderWidth: 1,
                                data: get(function (x) {
                                    return x.observed_downtime_ms >= 0 ? x.observed_downtime_ms : null; }) });
            } else if (kind === 'time') {
                datasets.push({ label: label(run, 'total ms'), backgroundColor: col,
                                data: get(function (x) { return x.total_ms; }) });
            } else {
                datasets.push({ label: label(run, 'MiB sent'), backgroundColor: col,
                                data: get(function (x) { return x.transferred_bytes / MiB; }) });
            }
        });
        var scales = { x: { beginAtZero: true, title: { display: true, text: X_TITLES[kind] } },
                       y: { ticks: { autoSkip: false, font: { size: 10 } } } };
        return new Chart(canvas, {
            type: 'bar', data: { labels: names, datasets: datasets },
            options: {
                indexAxis: 'y', animation: false, responsive: true, maintainAspectRatio: false,
                scales: scales,
                plugins: { title: { display: true, text: BAR_TITLES[kind] },
                           legend: { labels: { boxWidth: 12, font: { size: 11 } } } }
            }
        });
    }

    function hexRgb(c) {
        return [1, 3, 5].map(function (i) { return parseInt(c.substr(i, 2), 16); });
    }

    /* Pixels in the plot area close to one of the chart's series colours.
     * A timeline is first drawn without its marks (they are in run
     * colours too), checked, then drawn again with them. */
    function drewData(chart) {
        var r = chart.currentDevicePixelRatio || 1, a = chart.chartArea;
        var w = Math.floor((a.right - a.left) * r), h = Math.floor((a.bottom - a.top) * r);
        if (w <= 0 || h <= 0)
            return false;
        var px = chart.ctx.getImageData(Math.ceil(a.left * r), Math.ceil(a.top * r), w, h).data;
        var cols = chart.data.datasets.map(function (d) {
            return hexRgb(String(d.borderColor || d.backgroundColor).substr(0, 7));
        });
        for (var i = 0; i < px.length; i += 4) {
            if (px[i + 3] < 200)
                continue;
            for (var k = 0; k < cols.length; k++)
                if (Math.abs(px[i] - cols[k][0]) + Math.abs(px[i + 1] - cols[k][1]) +
                    Math.abs(px[i + 2] - cols[k][2]) < 40)
                    return true;
        }
        return false;
    }

    function draw(canvas) {
        if (canvas.dataset.drawn)
            return;
        var kind = canvas.dataset.chart, section = canvas.closest('section.case');
        var chart = section ? timeline(canvas, kind, section.querySelector('.name').textContent)
                            : bars(canvas, kind);
        charts.push(chart);
        canvas.dataset.drawn = '1';
        canvas.dataset.datasets = String(chart.data.datasets.length);
        canvas.dataset.ok = drewData(chart) ? '1' : '0';
        var marks = chart.options.plugins.mtMarks;
        if (marks && marks.later) {
            marks.sets = marks.later;
            chart.update('none');
        }
    }

    /* Summary cells against the JSON they were written from. */
    function checkNumbers() {
        var checked = 0, bad = 0;
        document.querySelectorAll('table.summary tr[data-case]').forEach(function (tr) {
            var c = byName[tr.dataset.run][tr.querySelector('a').textContent];
            var m = c.metrics || {}, ex = ((c.verify || {}).exact) || {};
            var want = {
                total_ms: m.total_ms || 0, downtime_ms: m.downtime_ms || 0,
                observed_downtime_ms: m.observed_downtime_ms === undefined ? -1 : m.observed_downtime_ms,
                transferred_mib: ((m.transferred_bytes || 0) / MiB).toFixed(1),
                dirty_sync_count: m.dirty_sync_count || 0, pages_differing: ex.pages_differing || 0
            };
            Object.keys(want).forEach(function (k) {
                var td = tr.querySelector('td[data-k="' + k + '"]');
                checked++;
                if (!td || td.textContent !== String(want[k]))
                    bad++;
            });
        });
        body.dataset.numbersChecked = String(checked);
        body.dataset.numbersBad = String(bad);
    }

    function report() {
        var canvases = document.querySelectorAll('canvas');
        body.dataset.chartsTotal = String(canvases.length);
        body.dataset.chartsDrawn = String(charts.length);
        body.dataset.chartsOk = String(document.querySelectorAll('canvas[data-ok="1"]').length);
        body.dataset.renderMs = String(Math.round(performance.now() - t0));
    }

    function drawOpen() {
        document.querySelectorAll('canvas').forEach(function (cv) {
            var d = cv.closest('details');
            if (!d || d.open)
                draw(cv);
        });
        report();
    }

    if (location.hash === '#render-all')
        document.querySelectorAll('section.case > details').forEach(function (d) { d.open = true; });
    document.querySelectorAll('section.case > details').forEach(function (d) {
        d.addEventListener('toggle', drawOpen);
    });
    checkNumbers();
    drawOpen();
})();
