// The recordings section of a settings page (a campaign's, a queue's): for
// each kind, what is stored (file name, length, who uploaded it and when),
// a player of what callers hear, upload of a WAV file and removal. A
// refusal is shown beside the kind's file field. The markup per kind:
// info-KIND, audio-KIND, file-KIND, upload-KIND, remove-KIND, error-KIND.
import { api } from './common.js';
import { $, say } from './console.js';

export const showErr = (node, e) => { node.textContent = e ? e.message : ''; node.hidden = !e; };
const seconds = (ms) => (ms / 1000).toFixed(1) + ' s';

// recordings wires the section: labels maps each kind to its name for
// people, base() is the API path of the thing recorded for
// ('/campaigns/7'). It returns load(), which shows what base() has now.
export function recordings(labels, base) {
  const kinds = Object.keys(labels);

  function paint(kind, info) {
    const audio = $('audio-' + kind);
    if (!info) {
      $('info-' + kind).textContent = 'None uploaded.';
      delete $('info-' + kind).dataset.durationMs;
      audio.hidden = true;
      audio.removeAttribute('src');
      $('remove-' + kind).hidden = true;
      return;
    }
    $('info-' + kind).textContent = info.file_name + ' · ' + seconds(info.duration_ms) + ' · uploaded by ' + info.uploaded_by +
      ' on ' + new Date(info.uploaded_at).toLocaleString();
    $('info-' + kind).dataset.durationMs = info.duration_ms;
    // The upload time in the address makes the browser fetch a replaced recording again.
    audio.src = '/api/v1' + base() + '/audio/' + kind + '?at=' + encodeURIComponent(info.uploaded_at);
    audio.hidden = false;
    $('remove-' + kind).hidden = false;
  }

  async function load() {
    for (const kind of kinds) showErr($('error-' + kind), null);
    const r = await api('GET', base() + '/audio');
    for (const kind of kinds) paint(kind, r.recordings.find((a) => a.kind === kind));
  }

  for (const kind of kinds) {
    const label = labels[kind];
    $('upload-' + kind).addEventListener('click', async () => {
      showErr($('error-' + kind), null);
      say('');
      try {
        const f = $('file-' + kind).files[0];
        if (!f) throw new Error('Choose a WAV file first.');
        const fd = new FormData();
        fd.append('file', f);
        const info = await api('POST', base() + '/audio/' + kind, fd);
        paint(kind, info);
        $('file-' + kind).value = '';
        say(label + ' uploaded: ' + info.file_name + ', ' + seconds(info.duration_ms) + '.');
      } catch (e) { showErr($('error-' + kind), e); }
    });
    $('remove-' + kind).addEventListener('click', async () => {
      showErr($('error-' + kind), null);
      if (!confirm('Remove the ' + label.toLowerCase() + '?')) return;
      try {
        await api('DELETE', base() + '/audio/' + kind);
        paint(kind, null);
        say(label + ' removed.');
      } catch (e) { showErr($('error-' + kind), e); }
    });
  }
  return load;
}
