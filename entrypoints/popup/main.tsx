import { render } from 'preact';
import { PopupView } from '../../components/PopupView';
import { presetFromSettings } from '../../model/config';
import '../../assets/pages.css';

render(<PopupView modelLabel={(settings) => (settings.engine === 'remote' ? `Remote: ${settings.remoteModel || 'server model'}` : presetFromSettings(settings).label)} />, document.getElementById('app')!);
