import { render } from 'preact';
import { PopupView } from '../../components/PopupView';
import { describeModel } from '../../model/config';
import { siteBelongsTo } from '../../sites/registry';
import '../../assets/pages.css';

render(<PopupView describeModel={describeModel} siteBelongsTo={siteBelongsTo} />, document.getElementById('app')!);
